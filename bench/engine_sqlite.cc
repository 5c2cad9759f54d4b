#include "engine.h"

#include <atomic>
#include <sqlite3.h>

namespace bench {
namespace {

class Connection {
public:
    explicit Connection(const std::string &path) {
        if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) fail("sqlite open: " + path);
        sqlite3_busy_timeout(db_, 60000);
        exec("PRAGMA journal_mode=WAL");
        exec("PRAGMA synchronous=OFF");
    }
    ~Connection() {
        for (auto *stmt : statements_) sqlite3_finalize(stmt);
        sqlite3_close(db_);
    }
    void exec(const char *sql) {
        if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
            fail(std::string("sqlite: ") + sql + ": " + sqlite3_errmsg(db_));
    }
    sqlite3_stmt *prepare(const char *sql) {
        sqlite3_stmt *stmt = nullptr;
        if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK)
            fail(std::string("sqlite prepare: ") + sqlite3_errmsg(db_));
        statements_.push_back(stmt);
        return stmt;
    }
    void step_done(sqlite3_stmt *stmt) {
        if (sqlite3_step(stmt) != SQLITE_DONE) fail(std::string("sqlite step: ") + sqlite3_errmsg(db_));
        sqlite3_reset(stmt);
    }

private:
    sqlite3 *db_ = nullptr;
    std::vector<sqlite3_stmt *> statements_;
};

class SQLite : public Engine {
public:
    explicit SQLite(const std::string &dir) : path_(dir + "/bench.sqlite") {
        conn_ = std::make_unique<Connection>(path_);
        conn_->exec("CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, v BLOB NOT NULL)");
        sqlite3_stmt *last = conn_->prepare("SELECT max(k) FROM t");
        if (sqlite3_step(last) == SQLITE_ROW && sqlite3_column_type(last, 0) != SQLITE_NULL)
            next_key_ = uint64_t(sqlite3_column_int64(last, 0)) + 1;
        sqlite3_reset(last);
        select_ = conn_->prepare("SELECT v FROM t WHERE k=?");
    }

    // One connection per writing thread; BEGIN IMMEDIATE takes the write
    // lock, so keys are taken in commit order.
    class SqliteWriter : public Writer {
    public:
        explicit SqliteWriter(SQLite &e) : e_(e), conn_(e.path_) {
            insert_ = conn_.prepare("INSERT INTO t(k, v) VALUES(?, ?)");
        }
        ~SqliteWriter() override { flush(); }
        uint64_t append(const char *data, size_t len) override {
            if (pending_ == 0) conn_.exec("BEGIN IMMEDIATE");
            uint64_t k = e_.next_key_++;
            sqlite3_bind_int64(insert_, 1, int64_t(k));
            sqlite3_bind_blob(insert_, 2, data, int(len), SQLITE_STATIC);
            conn_.step_done(insert_);
            if (++pending_ == kTxnBatch) flush();
            return k;
        }
        void flush() override {
            if (pending_ == 0) return;
            conn_.exec("COMMIT");
            pending_ = 0;
        }

    private:
        SQLite &e_;
        Connection conn_;
        sqlite3_stmt *insert_;
        size_t pending_ = 0;
    };

    std::unique_ptr<Writer> writer() override { return std::make_unique<SqliteWriter>(*this); }

    bool get(uint64_t k, std::string &out) override {
        sqlite3_bind_int64(select_, 1, int64_t(k));
        bool found = sqlite3_step(select_) == SQLITE_ROW;
        if (found)
            out.assign(static_cast<const char *>(sqlite3_column_blob(select_, 0)),
                       size_t(sqlite3_column_bytes(select_, 0)));
        sqlite3_reset(select_);
        return found;
    }

    // SQLite has no multiget: a loop of gets in one read transaction.
    size_t multiget(const uint64_t *keys, size_t n) override {
        conn_->exec("BEGIN");
        std::string value;
        size_t bytes = 0;
        for (size_t i = 0; i < n; ++i) {
            if (!get(keys[i], value)) fail("sqlite multiget: missing key");
            bytes += value.size();
        }
        conn_->exec("COMMIT");
        return bytes;
    }

    uint64_t scan(uint64_t &bytes) override {
        sqlite3_stmt *all = conn_->prepare("SELECT v FROM t ORDER BY k");
        uint64_t records = 0;
        while (sqlite3_step(all) == SQLITE_ROW) {
            ++records;
            sqlite3_column_blob(all, 0);
            bytes += size_t(sqlite3_column_bytes(all, 0));
        }
        sqlite3_reset(all);
        return records;
    }

private:
    std::string path_;
    std::unique_ptr<Connection> conn_;
    sqlite3_stmt *select_;
    std::atomic<uint64_t> next_key_{0};
};

} // namespace

std::unique_ptr<Engine> open_sqlite(const std::string &dir) { return std::make_unique<SQLite>(dir); }

} // namespace bench
