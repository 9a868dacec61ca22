/* test_ng_ctl.c - unit tests for ng_ctl (KEY=VALUE requests) and
 * ng_render (JSON and path: value lines). */
#include <stdint.h>
#include <stdlib.h>

#include "ng/bencode.h"
#include "ng/ng_ctl.h"
#include "ng/ng_render.h"
#include "base/buf.h"
#include "base/err.h"
#include "t.h"

/* Encode the words `w` (with command `cmd`); the bencode as a string. */
static const char *
enc(struct buf *b, const char *cmd, const char *const *w, size_t n, int *r)
{
	struct ng_arg a[16];
	size_t i;

	buf_reset(b);
	for (i = 0; i < n; i++)
		if ((*r = ng_arg_parse(&a[i], slice_cstr(w[i]))) != 0)
			return "(parse)";
	*r = ng_args_encode(b, cmd, a, n, NULL);
	return buf_str(b);
}

static void
test_args(void)
{
	static const char *const w1[] = { "call-id=c=1", "flags[]=a",
	    "delete-delay:=-7", "flags[]=b", "x[]=1", "sdp=@f.sdp" };
	static const char *const bad_int[] = { "n:=1x" };
	static const char *const big[] = { "n:=9223372036854775808" };
	static const char *const min[] = { "n:=-9223372036854775808" };
	struct buf *b = buf_new(1024);
	struct ng_arg a;
	size_t bad = 99;
	int r = -1;

	T_EQ_STR(enc(b, "ping", w1, 5, &r),
	    "d7:call-id3:c=15:flagsl1:a1:be12:delete-delayi-7e1:xl1:1e"
	    "7:command4:pinge", "members in order, lists gathered");
	T_EQ_INT(r, 0, "encode ok");
	T_EQ_INT(ng_arg_parse(&a, slice_cstr(w1[5])), 0, "@file parses");
	T_OK(a.at_file && slice_eq_cstr(a.val, "f.sdp") &&
	    slice_eq_cstr(a.key, "sdp"), "@file: path in val");
	T_EQ_INT(ng_arg_parse(&a, slice_cstr("novalue")), E_SYNTAX, "no =");
	T_EQ_INT(ng_arg_parse(&a, slice_cstr("=x")), E_SYNTAX, "empty key");
	T_EQ_INT(ng_arg_parse(&a, slice_cstr("[]=x")), E_SYNTAX,
	    "empty list key");
	T_EQ_INT(ng_arg_parse(&a, slice_cstr(":=1")), E_SYNTAX,
	    "empty int key");
	T_EQ_INT(ng_arg_parse(&a, slice_cstr("k=")), 0, "empty value ok");
	(void)enc(b, NULL, bad_int, 1, &r);
	T_EQ_INT(r, E_SYNTAX, "not an integer");
	T_EQ_INT(buf_len(b), 0, "failed encode leaves the buf as it was");
	T_EQ_INT(ng_arg_parse(&a, slice_cstr("k:=")), 0, "k:= parses");
	T_EQ_INT(ng_args_encode(b, NULL, &a, 1, &bad), E_SYNTAX, "empty int");
	T_EQ_INT(bad, 0, "bad index");
	(void)enc(b, NULL, big, 1, &r);
	T_EQ_INT(r, E_SYNTAX, "integer overflow");
	T_EQ_STR(enc(b, NULL, min, 1, &r), "d1:ni-9223372036854775808ee",
	    "INT64_MIN");
	buf_free(b);
}

static const char *
render(struct buf *b, const char *bencode, int json, unsigned indent)
{
	struct bencode_doc *d = NULL;
	int r;

	buf_reset(b);
	if (bencode_parse(slice_cstr(bencode), NULL, &d, NULL) != 0)
		return "(parse)";
	r = json ? ng_render_json(b, bencode_root(d), indent) :
	    ng_render_lines(b, bencode_root(d), "result");
	bencode_doc_free(d);
	return r == 0 ? buf_str(b) : "(render)";
}

static void
test_render(void)
{
	struct buf *b = buf_new(4096);

	T_EQ_STR(render(b, "d1:ai-1e1:bl1:x1:\"e1:cdee", 1, 0),
	    "{\"a\":-1,\"b\":[\"x\",\"\\\"\"],\"c\":{}}", "json one line");
	T_EQ_STR(render(b, "d1:ali1eee", 1, 2),
	    "{\n  \"a\": [\n    1\n  ]\n}", "json indented");
	T_EQ_STR(render(b, "5:\\\n\x01\x7f\t", 1, 0),
	    "\"\\\\\\n\\u0001\\u007f\\t\"", "json control characters");
	T_EQ_STR(render(b, "5:\xc3\xa9\xe2\x82\xac", 1, 0),
	    "\"\xc3\xa9\xe2\x82\xac\"", "json UTF-8 copied");
	T_EQ_STR(render(b, "7:\xff\xc3(\xed\xa0\x80\xc0", 1, 0),
	    "\"\\u00ff\\u00c3(\\u00ed\\u00a0\\u0080\\u00c0\"",
	    "json: invalid, surrogate, overlong bytes one by one");
	T_EQ_STR(render(b, "4:\xf0\x9f\x98\x80", 1, 0),
	    "\"\xf0\x9f\x98\x80\"", "json 4-byte UTF-8");
	T_EQ_STR(render(b, "3:\xf0\x9f\x98", 1, 0),
	    "\"\\u00f0\\u009f\\u0098\"", "json truncated UTF-8");
	T_EQ_STR(render(b,
	    "d6:result2:ok1:ad1:bli1e1:yee1:cle1:d3:\x01\\\xff" "e",
	    0, 0), "a.b[0]: 1\na.b[1]: y\nc: []\nd: \\x01\\\\\\xff\n",
	    "lines: paths, empty list, escapes, result skipped");
	T_EQ_STR(render(b, "d2:\n.i1ee", 0, 0), "\\n.: 1\n",
	    "lines: key escaped");
	T_EQ_STR(render(b, "d1:s2:\xc2\x85" "e", 0, 0), "s: \\xc2\\x85\n",
	    "lines: C1 control escaped");
	T_EQ_INT(ng_render_json(b, NULL, 0), E_INVAL, "NULL");
	buf_free(b);
}

int
main(void)
{
	test_args();
	test_render();
	return t_done();
}
