// Byte encodings for the tool's output formats. Each appends to `out`.
#ifndef ROCHE_CLI_ENCODE_H
#define ROCHE_CLI_ENCODE_H

#include <cstddef>
#include <cstdint>
#include <string>

#include "cli.h"

namespace cli {

// Little-endian integers, as rochefort's binary streams carry them.
void append_le32(std::string &out, uint32_t v);
void append_le64(std::string &out, uint64_t v);

void append_hex(std::string &out, const uint8_t *p, size_t n);
void append_base64(std::string &out, const uint8_t *p, size_t n);

// The value as the body of a JSON string (no quotes): valid UTF-8 passes
// through, control characters are escaped, and each byte that is not part
// of valid UTF-8 becomes U+FFFD (text is lossy for binary values).
void append_json_text(std::string &out, const uint8_t *p, size_t n);

// The value as one TSV field: backslash, tab, newline, carriage return and
// other control bytes are escaped (\\ \t \n \r \xHH), so the field never
// breaks a row and the original bytes can be recovered.
void append_tsv_text(std::string &out, const uint8_t *p, size_t n);

// The value in the chosen encoding, for a JSON string or a TSV field.
void append_encoded(std::string &out, Encoding enc, bool json, const uint8_t *p, size_t n);

}  // namespace cli

#endif
