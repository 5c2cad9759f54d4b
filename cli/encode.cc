#include "encode.h"

namespace cli {
namespace {

const char kHexDigits[] = "0123456789abcdef";

void append_hex_byte(std::string &out, uint8_t b) {
    out += kHexDigits[b >> 4];
    out += kHexDigits[b & 15];
}

bool in(uint8_t b, uint8_t lo, uint8_t hi) { return b >= lo && b <= hi; }

// Length of the well-formed UTF-8 sequence starting at p (RFC 3629: no
// overlong forms, no surrogates, nothing past U+10FFFF), or 0.
size_t utf8_length(const uint8_t *p, size_t n) {
    uint8_t b = p[0];
    if (b < 0x80) return 1;
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (in(b, 0xC2, 0xDF)) {
        len = 2;
    } else if (in(b, 0xE0, 0xEF)) {
        len = 3;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (in(b, 0xF0, 0xF4)) {
        len = 4;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (n < len || !in(p[1], lo, hi)) return 0;
    for (size_t i = 2; i < len; i++)
        if (!in(p[i], 0x80, 0xBF)) return 0;
    return len;
}

void append_json_escape(std::string &out, uint8_t c) {
    switch (c) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default:
        out += "\\u00";
        append_hex_byte(out, c);
    }
}

}  // namespace

void append_le32(std::string &out, uint32_t v) {
    for (int i = 0; i < 4; i++) out += char(v >> (8 * i));
}

void append_le64(std::string &out, uint64_t v) {
    for (int i = 0; i < 8; i++) out += char(v >> (8 * i));
}

void append_hex(std::string &out, const uint8_t *p, size_t n) {
    out.reserve(out.size() + 2 * n);
    for (size_t i = 0; i < n; i++) append_hex_byte(out, p[i]);
}

void append_base64(std::string &out, const uint8_t *p, size_t n) {
    static const char digits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out.reserve(out.size() + (n + 2) / 3 * 4);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t group = uint32_t(p[i]) << 16;
        if (i + 1 < n) group |= uint32_t(p[i + 1]) << 8;
        if (i + 2 < n) group |= p[i + 2];
        out += digits[(group >> 18) & 63];
        out += digits[(group >> 12) & 63];
        out += i + 1 < n ? digits[(group >> 6) & 63] : '=';
        out += i + 2 < n ? digits[group & 63] : '=';
    }
}

void append_json_text(std::string &out, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        if (c < 0x20 || c == '"' || c == '\\') {
            append_json_escape(out, c);
            i++;
            continue;
        }
        size_t len = utf8_length(p + i, n - i);
        if (len == 0) {
            out += "\\ufffd";
            i++;
            continue;
        }
        out.append(reinterpret_cast<const char *>(p + i), len);
        i += len;
    }
}

void append_tsv_text(std::string &out, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        default:
            if (c < 0x20 || c == 0x7F) {
                out += "\\x";
                append_hex_byte(out, c);
            } else {
                out += char(c);
            }
        }
    }
}

void append_encoded(std::string &out, Encoding enc, bool json, const uint8_t *p, size_t n) {
    switch (enc) {
    case Encoding::Hex: append_hex(out, p, n); break;
    case Encoding::Base64: append_base64(out, p, n); break;
    case Encoding::Text: json ? append_json_text(out, p, n) : append_tsv_text(out, p, n); break;
    }
}

}  // namespace cli
