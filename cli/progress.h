// A progress bar on stderr for commands that walk large stores (verify,
// import): shown only when stderr is a terminal, the work is large enough to
// be seen, and --no-progress was not given.
#ifndef ROCHE_CLI_PROGRESS_H
#define ROCHE_CLI_PROGRESS_H

#include <cstdint>

namespace cli {

class Progress {
public:
    // label: what the bar says it is doing ("verifying"); total: bytes.
    Progress(const char *label, uint64_t total, bool wanted);
    ~Progress() { clear(); }
    Progress(const Progress &) = delete;
    Progress &operator=(const Progress &) = delete;

    // pos bytes of the current bucket are done.
    void at(uint64_t pos);
    // The current bucket, size bytes, is done; the next one starts at 0.
    void bucket_done(uint64_t size) {
        at(size);
        base_ += size;
    }
    // Makes room for a line of output on a shared terminal.
    void clear();

private:
    const char *label_;
    uint64_t total_, base_ = 0;
    bool shown_;
    int percent_ = -1;
};

}  // namespace cli

#endif
