/* test_bencode.c - unit tests for the bencode decoder, encoder and printer. */
#include <stdint.h>
#include <stdlib.h>

#include "ng/bencode.h"
#include "base/buf.h"
#include "base/err.h"
#include "t.h"

static int
perr(const char *s)
{
	struct bencode_doc *d = NULL;
	int r = bencode_parse(slice_cstr(s), NULL, &d, NULL);

	bencode_doc_free(d);
	return r;
}

static void
test_scalars(void)
{
	struct bencode_doc *d;
	int64_t v = 0;

	T_EQ_INT(bencode_parse(SLICE_LIT("i42e"), NULL, &d, NULL), 0, "int");
	T_OK(bencode_type(bencode_root(d)) == BENCODE_INT &&
	    bencode_int(bencode_root(d), &v) == 0 && v == 42, "int value");
	bencode_doc_free(d);
	T_EQ_INT(bencode_parse(SLICE_LIT("i-9223372036854775808e"), NULL, &d,
	    NULL), 0, "INT64_MIN");
	T_OK(bencode_int(bencode_root(d), &v) == 0 && v == INT64_MIN,
	    "INT64_MIN value");
	bencode_doc_free(d);
	T_EQ_INT(bencode_parse(SLICE_LIT("i9223372036854775807e"), NULL, &d,
	    NULL), 0, "INT64_MAX");
	bencode_doc_free(d);
	T_EQ_INT(perr("i9223372036854775808e"), E_BIG, "int overflow");
	T_EQ_INT(perr("i-9223372036854775809e"), E_BIG, "int underflow");
	T_EQ_INT(perr("i0e"), 0, "zero");
	T_EQ_INT(perr("i-0e"), E_SYNTAX, "minus zero");
	T_EQ_INT(perr("i01e"), E_SYNTAX, "leading zero");
	T_EQ_INT(perr("ie"), E_SYNTAX, "empty int");
	T_EQ_INT(perr("i-e"), E_SYNTAX, "bare minus");
	T_EQ_INT(perr("i12"), E_SHORT, "unterminated int");
	T_EQ_INT(perr("i1x2e"), E_SYNTAX, "junk in int");

	T_EQ_INT(bencode_parse(SLICE_LIT("5:he\0lo"), NULL, &d, NULL), 0,
	    "string with NUL");
	T_OK(slice_eq(bencode_str(bencode_root(d)), SLICE_LIT("he\0lo")),
	    "string value");
	bencode_doc_free(d);
	T_EQ_INT(perr("0:"), 0, "empty string");
	T_EQ_INT(perr("5:abc"), E_SHORT, "short string");
	T_EQ_INT(perr("05:abcde"), E_SYNTAX, "string length leading zero");
	T_EQ_INT(perr("5"), E_SHORT, "length only");
	T_EQ_INT(perr("99999999999999999999999999:x"), E_BIG,
	    "absurd string length");
	T_EQ_INT(perr("18446744073709551615:x"), E_BIG,
	    "SIZE_MAX string length");
	T_EQ_INT(perr(""), E_SHORT, "empty input");
	T_EQ_INT(perr("x"), E_SYNTAX, "junk");
	T_EQ_INT(perr("e"), E_SYNTAX, "stray end");
}

static void
test_containers(void)
{
	const char *in = "d3:cow3:moo4:spaml1:a1:bi7ee0:de3:numi-3ee";
	struct bencode_doc *d;
	const struct bencode *root, *m, *e;
	int64_t v;
	size_t used;

	T_EQ_INT(bencode_parse(slice_cstr(in), NULL, &d, NULL), 0, "dict");
	root = bencode_root(d);
	T_EQ_INT(bencode_type(root), BENCODE_DICT, "root is a dict");
	T_EQ_INT(bencode_count(root), 4, "4 members");
	T_EQ_INT(bencode_doc_nodes(d), 8, "8 nodes (keys are not nodes)");
	T_OK(slice_eq_cstr(bencode_str(bencode_dict_get(root, "cow")), "moo"),
	    "dict_get cow");
	m = bencode_dict_get(root, "spam");
	T_OK(bencode_type(m) == BENCODE_LIST && bencode_count(m) == 3,
	    "spam is a 3-list");
	e = bencode_first(m);
	T_OK(slice_eq_cstr(bencode_str(e), "a"), "first element");
	e = bencode_next(bencode_next(e));
	T_OK(bencode_int(e, &v) == 0 && v == 7, "third element");
	T_OK(bencode_next(e) == NULL, "end of list");
	m = bencode_dict_get(root, "");
	T_OK(bencode_type(m) == BENCODE_DICT && bencode_count(m) == 0,
	    "empty key, empty dict");
	T_OK(bencode_dict_get(root, "nope") == NULL, "missing key");
	T_OK(bencode_dict_get(bencode_dict_get(root, "cow"), "x") == NULL,
	    "dict_get on a string");
	T_OK(slice_eq_cstr(bencode_raw(bencode_dict_get(root, "spam")),
	    "l1:a1:bi7ee"), "raw span of a list");
	T_OK(slice_eq_cstr(bencode_key(bencode_first(root)), "cow"),
	    "key of first member");
	T_OK(slice_eq_cstr(bencode_raw(root), in), "raw span of the root");
	bencode_doc_free(d);

	T_EQ_INT(perr("le"), 0, "empty list");
	T_EQ_INT(perr("l"), E_SHORT, "unterminated list");
	T_EQ_INT(perr("d1:ae"), E_SYNTAX, "key without value");
	T_EQ_INT(perr("di1e1:ae"), E_SYNTAX, "integer key");
	T_EQ_INT(perr("dle1:ae"), E_SYNTAX, "list key");
	T_EQ_INT(perr("lee"), E_SYNTAX, "trailing bytes");
	T_EQ_INT(bencode_parse(SLICE_LIT("lei5e"), NULL, &d, &used), 0,
	    "trailing bytes allowed with `used`");
	T_EQ_INT(used, 2, "used counts the first value only");
	bencode_doc_free(d);
	bencode_doc_free(NULL);
}

static void
test_caps(void)
{
	struct bencode_limits lim = { 3, 5 };
	struct bencode_doc *d = NULL;
	struct buf *b = buf_new(1 << 20);
	int i, r;

	T_EQ_INT(bencode_parse(SLICE_LIT("llleee"), &lim, &d, NULL), 0,
	    "depth 3 fits a cap of 3");
	bencode_doc_free(d);
	T_EQ_INT(bencode_parse(SLICE_LIT("lllleeee"), &lim, &d, NULL), E_BIG,
	    "depth 4 exceeds a cap of 3");
	T_EQ_INT(bencode_parse(SLICE_LIT("li1ei2ei3ei4ee"), &lim, &d, NULL),
	    0, "5 nodes fit a cap of 5");
	bencode_doc_free(d);
	T_EQ_INT(bencode_parse(SLICE_LIT("li1ei2ei3ei4ei5ee"), &lim, &d,
	    NULL), E_BIG, "6 nodes exceed a cap of 5");

	/* 100000 nested lists: refused by depth, no stack blow-up */
	r = 0;
	for (i = 0; i < 100000 && r == 0; i++)
		r = buf_append_u8(b, 'l');
	for (i = 0; i < 100000 && r == 0; i++)
		r = buf_append_u8(b, 'e');
	T_EQ_INT(bencode_parse(buf_slice(b), NULL, &d, NULL), E_BIG,
	    "very deep nesting is E_BIG");
	lim.max_depth = 1000;	/* clamped to BENCODE_DEPTH_MAX */
	lim.max_nodes = 1000000;
	T_EQ_INT(bencode_parse(buf_slice(b), &lim, &d, NULL), E_BIG,
	    "depth cap clamps to BENCODE_DEPTH_MAX");

	/* many nodes: arena blocks chain and free without leaks */
	buf_reset(b);
	r = buf_append_u8(b, 'l');
	for (i = 0; i < 8000 && r == 0; i++)
		r = buf_append(b, "i1e", 3);
	if (r == 0)
		r = buf_append_u8(b, 'e');
	T_EQ_INT(bencode_parse(buf_slice(b), NULL, &d, NULL), 0,
	    "8001 nodes under the default cap");
	T_EQ_INT(bencode_count(bencode_root(d)), 8000, "all elements counted");
	bencode_doc_free(d);
	buf_free(b);
}

static void
test_encode(void)
{
	struct buf *b = buf_new(256), *t = buf_new(1024), *small;
	struct bencode_doc *d;
	const struct bencode *root;
	int r;

	r = bencode_put_dict(b);
	if (r == 0) r = bencode_put_kcstr(b, "result", "ok");
	if (r == 0) r = bencode_put_kint(b, "n", -12);
	if (r == 0) r = bencode_put_klist(b, "l");
	if (r == 0) r = bencode_put_str(b, SLICE_LIT("a\r\n\"\\\x01"));
	if (r == 0) r = bencode_put_int(b, 0);
	if (r == 0) r = bencode_put_end(b);
	if (r == 0) r = bencode_put_kdict(b, "d");
	if (r == 0) r = bencode_put_end(b);
	if (r == 0) r = bencode_put_end(b);
	T_EQ_INT(r, 0, "encode");
	T_EQ_STR(buf_str(b),
	    "d6:result2:ok1:ni-12e1:ll6:a\r\n\"\\\x01i0ee1:ddee", "encoding");
	T_EQ_INT(bencode_parse(buf_slice(b), NULL, &d, NULL), 0,
	    "encoding parses back");
	root = bencode_root(d);
	T_EQ_INT(bencode_to_text(t, root, 0), 0, "to_text");
	T_EQ_STR(buf_str(t), "{\"result\": \"ok\", \"n\": -12, "
	    "\"l\": [\"a\\r\\n\\\"\\\\\\x01\", 0], \"d\": {}}", "one-line text");
	buf_reset(t);
	T_EQ_INT(bencode_to_text(t, bencode_dict_get(root, "l"), 2), 0,
	    "indented text");
	T_EQ_STR(buf_str(t), "[\n  \"a\\r\\n\\\"\\\\\\x01\",\n  0\n]",
	    "indented text layout");
	buf_reset(t);
	T_EQ_INT(bencode_put_node(t, bencode_dict_get(root, "l")), 0,
	    "put_node");
	T_EQ_STR(buf_str(t), "l6:a\r\n\"\\\x01i0ee", "put_node copies raw");
	bencode_doc_free(d);

	small = buf_new(4);
	T_EQ_INT(bencode_put_cstr(small, "abcd"), E_BIG, "str over the cap");
	T_EQ_INT(buf_len(small), 0, "failed put leaves the buf unchanged");
	T_EQ_INT(bencode_put_kint(small, "k", 10), E_BIG, "kint over the cap");
	T_EQ_INT(buf_len(small), 0, "failed keyed put undoes the key");
	T_EQ_INT(bencode_put_int(small, INT64_MIN), E_BIG, "int over the cap");
	buf_free(small);
	buf_free(b);
	buf_free(t);
}

int
main(void)
{
	test_scalars();
	test_containers();
	test_caps();
	test_encode();
	return t_done();
}
