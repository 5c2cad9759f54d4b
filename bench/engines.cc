#include "engine.h"

namespace bench {

const std::vector<EngineKind> &engine_kinds() {
    static const std::vector<EngineKind> kinds = {
        {"libroche", "defaults (8 buckets, no sync), appends without an id", open_roche},
        {"rocksdb-wal", "WAL on, sync=false, default options", open_rocksdb_wal},
        {"rocksdb-nowal", "disableWAL=true, default options", open_rocksdb_nowal},
        {"leveldb", "sync=false, default options", open_leveldb},
        {"lmdb", "MDB_NOSYNC|MDB_WRITEMAP, MDB_APPEND, 1000 puts per txn", open_lmdb},
        {"sqlite", "WAL, synchronous=OFF, INTEGER PRIMARY KEY + BLOB, 1000 inserts per txn", open_sqlite},
    };
    return kinds;
}

const EngineKind kRocheBatched = {"libroche-many", "roche_append_many, 1000 values a call gathered into one buffer",
                                  open_roche_batched};

} // namespace bench
