// For tests/import.sh: writes a namespace in rochefort v0.5's format (the
// record header's check is the upper 32 bits of MetroHash64, seed 0, of its
// first 12 bytes), as rochefort itself would have, only faster.
//
//   rochefort_writer ROOT NS BUCKETS RECORDS [--list]
//
// Record i (from 0) goes to bucket i % BUCKETS and holds "record-<i>"; its
// time is 1500000000000000000 + i ns. Every bucket file is created, empty
// ones too, as rochefort does. --list prints "offset<TAB>value" per record.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../../libroche/metrohash.h"

int main(int argc, char **argv) {
    if (argc < 5 || argc > 6 || (argc == 6 && std::strcmp(argv[5], "--list") != 0)) {
        std::fprintf(stderr, "usage: %s ROOT NS BUCKETS RECORDS [--list]\n", argv[0]);
        return 2;
    }
    std::string dir = std::string(argv[1]) + "/" + argv[2];
    unsigned long buckets = std::strtoul(argv[3], nullptr, 10);
    unsigned long long records = std::strtoull(argv[4], nullptr, 10);
    bool list = argc == 6;
    mkdir(argv[1], 0755);
    if (buckets == 0 || (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)) {
        std::perror(dir.c_str());
        return 1;
    }
    std::vector<FILE *> files;
    std::vector<unsigned long long> ends(buckets, 0);
    for (unsigned long b = 0; b < buckets; b++) {
        std::string path = dir + "/append." + std::to_string(b) + ".raw";
        FILE *f = std::fopen(path.c_str(), "ab");
        if (!f) {
            std::perror(path.c_str());
            return 1;
        }
        std::fseek(f, 0, SEEK_END);
        ends[b] = (unsigned long long)std::ftell(f);
        files.push_back(f);
    }
    for (unsigned long long i = 0; i < records; i++) {
        unsigned long b = (unsigned long)(i % buckets);
        std::string value = "record-" + std::to_string(i);
        unsigned char h[16];
        uint32_t len = uint32_t(value.size());
        uint64_t time = 1500000000000000000ull + i;
        for (int k = 0; k < 4; k++) h[k] = uint8_t(len >> (8 * k));
        for (int k = 0; k < 8; k++) h[4 + k] = uint8_t(time >> (8 * k));
        uint32_t check = roche::rochefort_check(h);
        for (int k = 0; k < 4; k++) h[12 + k] = uint8_t(check >> (8 * k));
        if (std::fwrite(h, 1, 16, files[b]) != 16 ||
            std::fwrite(value.data(), 1, value.size(), files[b]) != value.size()) {
            std::perror("write");
            return 1;
        }
        if (list) std::printf("%llu\t%s\n", (unsigned long long)b << 50 | ends[b], value.c_str());
        ends[b] += 16 + value.size();
    }
    for (FILE *f : files)
        if (std::fclose(f) != 0) {
            std::perror("close");
            return 1;
        }
    return 0;
}
