/* proxy_reach.c - reaching clients: Path, Contact map, registrar. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/proxy_int.h"

static struct cmap **
cmap_find(struct proxy *px, uint64_t flow)
{
	struct cmap **pp = &px->cmap[flow % CMAP_BUCKETS];

	while (*pp != NULL && (*pp)->flow != flow)
		pp = &(*pp)->next;
	return pp;
}

static void
cmap_set(struct proxy *px, uint64_t flow, struct slice uri)
{
	struct cmap **pp = cmap_find(px, flow), *c = *pp;
	char *u = malloc(uri.len + 1);

	if (u == NULL)
		return;
	memcpy(u, uri.p, uri.len);
	u[uri.len] = '\0';
	if (c == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			free(u);
			return;
		}
		c->flow = flow;
		*pp = c;
	}
	free(c->uri);
	c->uri = u;
}

const char *
px_cmap_get(struct proxy *px, uint64_t flow)
{
	struct cmap *c = *cmap_find(px, flow);

	return c != NULL ? c->uri : NULL;
}

void
proxy_flow_closed(struct proxy *px, uint64_t flow)
{
	struct cmap **pp = cmap_find(px, flow), *c = *pp;
	size_t n;

	if (c != NULL) {
		*pp = c->next;
		free(c->uri);
		free(c);
	}
	px_keying_forget(px, flow);
	/* The phone cannot end its calls any more: we do (--bye-on-loss). */
	if (px->dlg != NULL && (n = dialog_flow_lost(px->dlg, flow,
	    px_bye_for_lost, px)) > 0)
		log_msg(px->lg, LOG_INFO, "flow lost: BYE sent for %zu "
		    "call%s", n, n == 1 ? "" : "s");
}

/* REGISTER on the way in: Path or Contact rewrite. */
int
px_register_reach(struct proxy *px, const struct sip_msg *m,
    struct sip_edits *e, uint64_t flow, const char *tok, const char *tp)
{
	char line[512];
	long i = -1;
	int r;

	if (px->conf.reach == PROXY_PATH) {
		const struct sip_hdr *sup = sip_find(m, SIP_H_SUPPORTED);
		snprintf(line, sizeof(line), "Path: <sip:%s@%s%s;lr;ob>\r\n",
		    tok, px->in_hp, tp);
		if ((r = px_add_text_top(e, m, line)) != 0)
			return r;
		if (px->conf.no_path_tag)
			return 0;
		/* Strict-Path registrars (Kamailio's default) answer 420
		 * unless the REGISTER says it supports path. */
		if (sup == NULL)
			return px_add_text_top(e, m, "Supported: path\r\n");
		{
			struct slice cur = sup->value, v;
			while (sip_value_next(&cur, &v))
				if (slice_case_eq_cstr(v, "path"))
					return 0;
		}
		return sip_edit_insert(e, sup->value.p + sup->value.len,
		    SLICE_LIT(", path"));
	}
	/* Contact rewriting: remember the client's, give ours. */
	while ((i = sip_next(m, SIP_H_CONTACT, (size_t)(i + 1))) >= 0) {
		struct slice cur = m->hdr[i].value, v;
		while (sip_value_next(&cur, &v)) {
			struct sip_addr a;
			if (slice_eq_cstr(v, "*") || sip_addr_parse(v, &a) != 0)
				continue;
			cmap_set(px, flow, a.uri);
			snprintf(line, sizeof(line), "sip:%s@%s%s", tok,
			    px->in_hp, tp);
			if ((r = sip_edit_replace(e, a.uri, slice_cstr(line)))
			    != 0)
				return r;
		}
	}
	return 0;
}

/* The built-in registrar: answer REGISTER, bind AoR -> flow. */
void
px_register_local(struct proxy *px, uint64_t flow, const struct sip_msg *m)
{
	struct target back = { 1, flow, { .len = 0 }, 0, 0 };
	struct buf *c = buf_new(REG_MAX_BINDINGS * 1100);
	int r, code;

	if (c == NULL)
		return;
	r = registrar_register(px->reg, m, flow, ev_now_ms(px->loop),
	    px->conf.reg_max_s, c);
	switch (r) {
	case 0:		code = 200; break;
	case E_STATE:	code = 500; break;	/* out-of-order CSeq */
	case E_LIMIT:	code = 503; break;
	case E_BIG:
	case E_NOMEM:	code = 500; break;
	default:	code = 400; break;
	}
	if (r != 0)
		log_msg(px->lg, LOG_INFO, "REGISTER refused: %s",
		    sbk_strerror(r));
	else
		log_msg(px->lg, LOG_DEBUG, "REGISTER: %zu bindings in all",
		    registrar_count(px->reg));
	/* The 200 lists every binding; the client looks for its own. */
	px_reply(px, m, &back, code, r == 0 && buf_len(c) > 0 ? buf_str(c) :
	    NULL);
	buf_free(c);
}

/* Contact rewriting: the 200 to a REGISTER shows the client's Contact. */
int
px_restore_contacts(struct proxy *px, const struct sip_msg *m,
    struct sip_edits *e, uint64_t flow)
{
	const char *orig = px_cmap_get(px, flow);
	long i = -1;
	int r;

	if (orig == NULL)
		return 0;
	while ((i = sip_next(m, SIP_H_CONTACT, (size_t)(i + 1))) >= 0) {
		struct slice cur = m->hdr[i].value, v;
		while (sip_value_next(&cur, &v)) {
			struct sip_addr a;
			uint64_t f;
			if (sip_addr_parse(v, &a) != 0 ||
			    !px_uri_token(&px->env, a.uri, &f) || f != flow)
				continue;
			if ((r = sip_edit_replace(e, a.uri, slice_cstr(orig)))
			    != 0)
				return r;
		}
	}
	return 0;
}
