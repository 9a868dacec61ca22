/* ng_render.h - decoded ng replies shown as JSON, or as `key: value`
 * lines a person reads. */
#ifndef SBK_NG_RENDER_H
#define SBK_NG_RENDER_H

#include "ng/bencode.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/slice.h"

/*
 * Append `n` to `out` as JSON: integers as numbers, dicts as objects (keys
 * in their order, duplicates kept as sent), lists as arrays, strings as
 * JSON strings. Bencode strings are bytes: valid UTF-8 is copied, `"`,
 * `\` and control characters are escaped, and every byte that is not part
 * of valid UTF-8 becomes \u00XX (so the output is always valid JSON, and a
 * string that was ISO-8859-1 still reads right). `indent` > 0 puts each
 * member on its own line, indented that many spaces a level; 0: one line.
 * No newline at the end. Returns 0, E_INVAL (NULL), E_BIG or E_NOMEM.
 */
int ng_render_json(struct buf *out, const struct bencode *n,
    unsigned indent) WUR;

/*
 * Append `s` made safe for a terminal: printable ASCII and valid UTF-8
 * copied, `\` doubled, other bytes as \r \n \t or \xHH. Returns 0, E_BIG
 * or E_NOMEM.
 */
int ng_render_text(struct buf *out, struct slice s) WUR;

/*
 * Append one `path: value` line per scalar in `n`: the path joins dict keys
 * with '.' and list indexes as [i] (`totals.RTP.packets: 12`,
 * `tags.t1.medias[0].type: audio`); an empty container shows as `{}` or
 * `[]`. Top-level members named `skip` (NULL: none) are left out. Returns
 * 0, E_INVAL, E_BIG or E_NOMEM.
 */
int ng_render_lines(struct buf *out, const struct bencode *n,
    const char *skip) WUR;

#endif
