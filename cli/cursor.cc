// roche cursor: list, read, set and delete a namespace's consumer cursors.
//
// Cursors are consumer state, which read-only handles may write, so every
// subcommand opens the store read-only: it runs beside the application
// that holds the store open for writing, and a commit is synced before the
// tool exits (libroche does that for read-only handles).
#include <cstdint>
#include <cstring>

#include "cli.h"

namespace cli {
namespace {

// The operands a subcommand takes after its own name: at least min, at
// most max.
void expect_operands(const Args &args, size_t min, size_t max) {
    const std::string &sub = args.operands[0];
    size_t given = args.operands.size() - 1;
    if (given < min) throw UsageError("cursor " + sub + ": missing operand");
    if (given > max)
        throw UsageError("cursor " + sub + ": unexpected operand '" + args.operands[1 + max] + "'");
}

// set's offsets, after the name; a bad one is a usage error.
std::vector<uint64_t> parse_offsets(const Args &args) {
    std::vector<uint64_t> offsets;
    for (size_t i = 2; i < args.operands.size(); i++)
        offsets.push_back(parse_u64(args.operands[i], "offset"));
    return offsets;
}

int list_cursors(const Args &args, roche_db *db) {
    char *names = nullptr;
    size_t count = 0;
    check(roche_cursor_list(db, args.ns.c_str(), &names, &count));
    std::string text;
    const char *p = names;
    for (size_t i = 0; i < count; i++, p += std::strlen(p) + 1) text += std::string(p) + "\n";
    roche_free(names);
    out(text);
    return 0;
}

int get_cursor(const Args &args, roche_db *db) {
    uint64_t *offsets = nullptr;
    size_t count = 0;
    check(roche_cursor_get(db, args.ns.c_str(), args.operands[1].c_str(), &offsets, &count));
    std::string text;
    for (size_t i = 0; i < count; i++) text += std::to_string(offsets[i]) + "\n";
    roche_free(offsets);
    out(text);
    return 0;
}

int set_cursor(const Args &args, roche_db *db) {
    std::vector<uint64_t> offsets = parse_offsets(args);
    check(roche_cursor_commit(db, args.ns.c_str(), args.operands[1].c_str(), offsets.data(), offsets.size()));
    return 0;
}

int delete_cursor(const Args &args, roche_db *db) {
    check(roche_cursor_delete(db, args.ns.c_str(), args.operands[1].c_str()));
    return 0;
}

}  // namespace

int run_cursor(const Args &args) {
    const std::string &sub = args.operands[0];
    int (*run)(const Args &, roche_db *) = nullptr;
    if (sub == "list") {
        expect_operands(args, 0, 0);
        run = list_cursors;
    } else if (sub == "get") {
        expect_operands(args, 1, 1);
        run = get_cursor;
    } else if (sub == "set") {
        expect_operands(args, 2, SIZE_MAX - 1);  // libroche checks the most a cursor holds
        run = set_cursor;
    } else if (sub == "delete") {
        expect_operands(args, 1, 1);
        run = delete_cursor;
    } else {
        throw UsageError("cursor: unknown subcommand '" + sub + "' (list, get, set or delete)");
    }
    // Checked before the store is opened, so a usage error (status 2)
    // never depends on the store.
    if (run == set_cursor) parse_offsets(args);
    Store store(args, Access::Read);
    int status = run(args, store.db());
    store.close();
    return status;
}

}  // namespace cli
