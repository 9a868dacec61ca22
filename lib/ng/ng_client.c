/* ng_client.c - rtpengine "ng" protocol, client side: encoding a request,
 * reading the reply, the retransmission schedule. */
#include <string.h>

#include "base/rnd.h"
#include "ng/ng_int.h"

/* Encoding a request. */

/* The names in `t` of the bits set in `bits`, as list items. */
static int
put_names(struct buf *b, const struct ng_names *t, unsigned bits)
{
	size_t i;
	int r;

	for (i = 0; i < t->n; i++)
		if ((bits & t->v[i].v) &&
		    (r = bencode_put_cstr(b, t->v[i].s)) != 0)
			return r;
	return 0;
}

static int
put_bits(struct buf *b, const char *key, const struct ng_names *t,
    unsigned bits)
{
	int r;

	if (bits == 0)
		return 0;
	if ((r = bencode_put_klist(b, key)) != 0 ||
	    (r = put_names(b, t, bits)) != 0)
		return r;
	return bencode_put_end(b);
}

static int
put_sdes(struct buf *b, const char *key, const struct ng_req *q)
{
	size_t i;
	int r;

	if (q->sdes == 0 && q->n_sdes_no == 0 && q->n_sdes_only == 0)
		return 0;
	if ((r = bencode_put_klist(b, key)) != 0 ||
	    (r = put_names(b, &ng_sdes_names, q->sdes)) != 0)
		return r;
	for (i = 0; i < q->n_sdes_no && i < NG_LIST_MAX; i++)
		if ((r = buf_printf(b, "%zu:no-", q->sdes_no[i].len + 3)) != 0 ||
		    (r = buf_append_slice(b, q->sdes_no[i])) != 0)
			return r;
	for (i = 0; i < q->n_sdes_only && i < NG_LIST_MAX; i++)
		if ((r = buf_printf(b, "%zu:only-",
		    q->sdes_only[i].len + 5)) != 0 ||
		    (r = buf_append_slice(b, q->sdes_only[i])) != 0)
			return r;
	return bencode_put_end(b);
}

static int
put_flags(struct buf *b, const char *key, const struct ng_req *q)
{
	size_t i;
	int r;

	if (q->flags == 0 && q->n_extra_flags == 0)
		return 0;
	if ((r = bencode_put_klist(b, key)) != 0 ||
	    (r = put_names(b, &ng_flag_names, q->flags)) != 0)
		return r;
	for (i = 0; i < q->n_extra_flags && i < NG_UNKNOWN_MAX; i++)
		if ((r = bencode_put_str(b, q->extra_flags[i])) != 0)
			return r;
	return bencode_put_end(b);
}

/* Two strings as a list under `key`, if both are given. */
static int
put_pair(struct buf *b, const char *key, struct slice x, struct slice y)
{
	int r;

	if (x.len == 0 || y.len == 0)
		return 0;
	if ((r = bencode_put_klist(b, key)) != 0 ||
	    (r = bencode_put_str(b, x)) != 0 ||
	    (r = bencode_put_str(b, y)) != 0)
		return r;
	return bencode_put_end(b);
}

/* Key `k` of `q`, if `q` gives it. */
static int
put_key(struct buf *b, const struct ng_key *k, const struct ng_req *q)
{
	/* direction: [from, to] when both are given, else each its own */
	int pair = q->from_interface.len > 0 && q->to_interface.len > 0;
	const char *s;

	switch (k->shape) {
	case NG_KEY_STR:
		return ng_put_opt(b, k->name,
		    *(const struct slice *)((const char *)q + k->field));
	case NG_KEY_BITS:
		return put_bits(b, k->name, k->names,
		    *(const unsigned *)((const char *)q + k->field));
	default:
		break;
	}
	switch (k->id) {
	case K_RTPP_FLAGS:
		return ng_put_opt(b, k->name, q->rtpp_flags);
	case K_TRANSPORT:
		if (q->transport_protocol.len > 0)
			return bencode_put_kstr(b, k->name,
			    q->transport_protocol);
		s = ng_proto_name(q->proto);
		return s != NULL ? bencode_put_kcstr(b, k->name, s) : 0;
	case K_ICE:
	case K_DTLS:
		s = ng_name_of(k->names, k->id == K_ICE ? (unsigned)q->ice :
		    (unsigned)q->dtls);
		return s != NULL ? bencode_put_kcstr(b, k->name, s) : 0;
	case K_SDES:
		return put_sdes(b, k->name, q);
	case K_DIRECTION:
		return put_pair(b, k->name, q->from_interface,
		    q->to_interface);
	case K_FROM_IF:
		return pair ? 0 : ng_put_opt(b, k->name, q->from_interface);
	case K_TO_IF:
		return pair ? 0 : ng_put_opt(b, k->name, q->to_interface);
	case K_RECEIVED_FROM:
		return put_pair(b, k->name, q->received_family,
		    q->received_addr);
	case K_DELETE_DELAY:
		return q->delete_delay >= 0 ? bencode_put_kint(b, k->name,
		    q->delete_delay) : 0;
	case K_FLAGS:
		return put_flags(b, k->name, q);
	case K_COMMAND:
		return bencode_put_kcstr(b, k->name, ng_cmd_name(q->cmd));
	default:
		return 0;
	}
}

static int
encode_body(const struct ng_req *q, struct buf *b)
{
	size_t i;
	int r;

	if ((r = bencode_put_dict(b)) != 0)
		return r;
	for (i = 0; i < ng_nkeys; i++)
		if ((r = put_key(b, &ng_keys[i], q)) != 0)
			return r;
	return bencode_put_end(b);
}

int
ng_req_encode(const struct ng_req *req, struct buf *out)
{
	size_t old = buf_len(out);
	int r;

	if (req->cookie.len == 0 || req->cookie.len > NG_COOKIE_MAX ||
	    slice_chr(req->cookie, ' ') >= 0 || ng_cmd_name(req->cmd) == NULL)
		return E_INVAL;
	if ((r = buf_append_slice(out, req->cookie)) != 0 ||
	    (r = buf_append_u8(out, ' ')) != 0 ||
	    (r = encode_body(req, out)) != 0)
		buf_truncate(out, old);
	return r;
}

int
ng_cookie_new(char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t rb[NG_COOKIE_LEN / 2];
	size_t i;
	int r;

	if (n < NG_COOKIE_LEN + 1)
		return E_INVAL;
	if ((r = rnd_bytes(rb, sizeof(rb))) != 0)
		return r;
	for (i = 0; i < sizeof(rb); i++) {
		out[2 * i] = hex[rb[i] >> 4];
		out[2 * i + 1] = hex[rb[i] & 15];
	}
	out[NG_COOKIE_LEN] = '\0';
	return 0;
}

/* Replies (client side). */

void
ng_reply_release(struct ng_reply *rep)
{
	if (rep == NULL)
		return;
	bencode_doc_free(rep->doc);
	rep->doc = NULL;
	rep->dict = NULL;
}

static struct slice
dict_str(const struct bencode *d, const char *key)
{
	const struct bencode *m;

	for (m = bencode_first(d); m != NULL; m = bencode_next(m))
		if (ng_name_eq(bencode_key(m), key))
			return bencode_str(m);
	return SLICE_NULL;
}

int
ng_reply_parse(struct ng_reply *rep, struct slice dgram)
{
	struct slice doc, res;
	int r;

	memset(rep, 0, sizeof(*rep));
	if (dgram.len > NG_DGRAM_MAX)
		return E_BIG;
	if ((r = ng_split_dgram(dgram, &rep->cookie, &doc)) != 0)
		return r;
	if ((r = ng_parse_doc(doc, &rep->doc)) != 0)
		return r;
	rep->dict = bencode_root(rep->doc);
	res = rep->result_str = dict_str(rep->dict, "result");
	if (res.len == 0)
		rep->result = NG_RESULT_NONE;
	else if (slice_eq_cstr(res, "ok"))
		rep->result = NG_RESULT_OK;
	else if (slice_eq_cstr(res, "pong"))
		rep->result = NG_RESULT_PONG;
	else if (slice_eq_cstr(res, "error"))
		rep->result = NG_RESULT_ERROR;
	else if (slice_eq_cstr(res, "load limit"))
		rep->result = NG_RESULT_LOAD_LIMIT;
	else
		rep->result = NG_RESULT_OTHER;
	rep->error_reason = dict_str(rep->dict, "error-reason");
	rep->warning = dict_str(rep->dict, "warning");
	rep->sdp = dict_str(rep->dict, "sdp");
	return 0;
}

int
ng_reply_failover(const struct ng_reply *rep)
{
	if (rep->result == NG_RESULT_LOAD_LIMIT)
		return 1;
	return rep->result == NG_RESULT_ERROR &&
	    (slice_eq_cstr(rep->error_reason, NG_ERR_PARALLEL) ||
	    slice_eq_cstr(rep->error_reason, NG_ERR_PORTS));
}

/* Retransmission schedule. */

void
ng_retry_init(struct ng_retry *rt, unsigned tries, uint64_t interval_ms,
    uint64_t now_ms)
{
	rt->tries = tries;
	rt->sent = 0;
	rt->interval_ms = interval_ms;
	rt->next_ms = now_ms;
}

int
ng_retry_next(struct ng_retry *rt, uint64_t now_ms, uint64_t *when_ms)
{
	if (now_ms < rt->next_ms) {
		*when_ms = rt->next_ms;
		return NG_RETRY_WAIT;
	}
	if (rt->sent >= rt->tries) {
		*when_ms = rt->next_ms;
		return NG_RETRY_GIVEUP;
	}
	rt->sent++;
	rt->next_ms = now_ms + rt->interval_ms;
	*when_ms = rt->next_ms;
	return NG_RETRY_SEND;
}
