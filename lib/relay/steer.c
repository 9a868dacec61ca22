/* steer.c - a BPF sk_lookup program, written out as instructions. */
#include "relay/steer.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct steer {
	unsigned n;
	uint32_t pmin, span;	/* the port range */
	struct net_addr host[STEER_MAX_HOSTS];
	int fd[STEER_MAX_HOSTS];
	int map, prog, link;
};

/* Room for the program: a fixed head and tail, 11 per IPv6 host. */
#define PROG_MAX 96

struct emit {
	struct bpf_insn in[PROG_MAX];
	unsigned n;
	unsigned to_pass[16 + 6 * STEER_MAX_HOSTS];	/* jumps to patch */
	unsigned npass;
};

static void
put(struct emit *e, uint8_t code, uint8_t dst, uint8_t src, int16_t off,
    int32_t imm)
{
	struct bpf_insn *i = &e->in[e->n++];

	memset(i, 0, sizeof(*i));
	i->code = code;
	i->dst_reg = dst & 0xf;
	i->src_reg = src & 0xf;
	i->off = off;
	i->imm = imm;
}

/* r`dst` = *(u32 *)(ctx(r6) + off) */
static void
ld_ctx(struct emit *e, uint8_t dst, size_t off)
{
	put(e, BPF_LDX | BPF_MEM | BPF_W, dst, 6, (int16_t)off, 0);
}

/* if (u32)r`reg` `op` imm goto PASS (patched at the end) */
static void
jmp_pass(struct emit *e, uint8_t op, uint8_t reg, uint32_t imm)
{
	e->to_pass[e->npass++] = e->n;
	put(e, BPF_JMP32 | op | BPF_K, reg, 0, 0, (int32_t)imm);
}

static long
sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

static int
errno_code(void)
{
	if (errno == EPERM || errno == EACCES)
		return E_PERM;
	if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)
		return E_UNSUPPORTED;
	return E_IO;
}

/*
 *	r6 = ctx
 *	if protocol != UDP or local_port outside the range: PASS
 *	r8 = local_port - port_min
 *	r7 = span * (index of the host local_ip matches), else PASS
 *	sk = map[r7 + r8] (a port in use); if !sk: PASS
 *	bpf_sk_assign(ctx, sk, 0); bpf_sk_release(sk)
 * PASS: return SK_PASS (the normal lookup, unless a socket was assigned)
 */
static void
program(struct emit *e, const struct steer *st)
{
	unsigned next[STEER_MAX_HOSTS][5], nnext, found[STEER_MAX_HOSTS];

	put(e, BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0);
	ld_ctx(e, 2, offsetof(struct bpf_sk_lookup, protocol));
	jmp_pass(e, BPF_JNE, 2, IPPROTO_UDP);
	ld_ctx(e, 8, offsetof(struct bpf_sk_lookup, local_port));
	jmp_pass(e, BPF_JLT, 8, st->pmin);
	jmp_pass(e, BPF_JGT, 8, st->pmin + st->span - 1);
	put(e, BPF_ALU | BPF_SUB | BPF_K, 8, 0, 0, st->pmin);
	ld_ctx(e, 2, offsetof(struct bpf_sk_lookup, family));
	for (unsigned h = 0; h < st->n; h++) {
		const struct net_addr *a = &st->host[h];
		int v6 = net_addr_family(a) == AF_INET6;
		uint32_t w[4];

		nnext = 0;
		if (v6)
			memcpy(w, &a->u.in6.sin6_addr, 16);
		else
			memcpy(w, &a->u.in4.sin_addr, 4);
		next[h][nnext++] = e->n;
		put(e, BPF_JMP32 | BPF_JNE | BPF_K, 2, 0, 0,
		    v6 ? AF_INET6 : AF_INET);
		for (unsigned k = 0; k < (v6 ? 4u : 1u); k++) {
			ld_ctx(e, 3, v6 ? offsetof(struct bpf_sk_lookup,
			    local_ip6) + 4 * k :
			    offsetof(struct bpf_sk_lookup, local_ip4));
			next[h][nnext++] = e->n;
			put(e, BPF_JMP32 | BPF_JNE | BPF_K, 3, 0, 0,
			    (int32_t)w[k]);
		}
		put(e, BPF_ALU64 | BPF_MOV | BPF_K, 7, 0, 0,
		    (int32_t)(h * st->span));
		found[h] = e->n;
		put(e, BPF_JMP | BPF_JA, 0, 0, 0, 0);
		/* a mismatch goes on to the next host */
		for (unsigned k = 0; k < nnext; k++)
			e->in[next[h][k]].off =
			    (int16_t)(e->n - next[h][k] - 1);
	}
	e->to_pass[e->npass++] = e->n;
	put(e, BPF_JMP | BPF_JA, 0, 0, 0, 0);
	for (unsigned h = 0; h < st->n; h++)
		e->in[found[h]].off = (int16_t)(e->n - found[h] - 1);
	/* *(u32 *)(fp - 4) = r7 + r8; r0 = map_lookup_elem(map, fp - 4) */
	put(e, BPF_ALU64 | BPF_ADD | BPF_X, 7, 8, 0, 0);
	put(e, BPF_STX | BPF_MEM | BPF_W, 10, 7, -4, 0);
	put(e, BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, st->map);
	put(e, 0, 0, 0, 0, 0);
	put(e, BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0);
	put(e, BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4);
	put(e, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
	e->to_pass[e->npass++] = e->n;
	put(e, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0, 0);
	put(e, BPF_ALU64 | BPF_MOV | BPF_X, 7, 0, 0, 0);
	put(e, BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0);
	put(e, BPF_ALU64 | BPF_MOV | BPF_X, 2, 7, 0, 0);
	put(e, BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 0);
	put(e, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_sk_assign);
	put(e, BPF_ALU64 | BPF_MOV | BPF_X, 1, 7, 0, 0);
	put(e, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_sk_release);
	/* PASS */
	for (unsigned k = 0; k < e->npass; k++)
		e->in[e->to_pass[k]].off = (int16_t)(e->n - e->to_pass[k] - 1);
	put(e, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, SK_PASS);
	put(e, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

static int
make_map(struct steer *st)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_SOCKMAP;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = st->n * st->span;
	st->map = (int)sys_bpf(BPF_MAP_CREATE, &a);
	return st->map < 0 ? errno_code() : 0;
}

int
steer_port(struct steer *st, unsigned h, uint16_t port, int on)
{
	union bpf_attr a;
	uint32_t key;
	uint64_t v;

	if (st == NULL || h >= st->n || port < st->pmin ||
	    port - st->pmin >= st->span)
		return E_INVAL;
	key = h * st->span + port - st->pmin;
	v = (uint64_t)st->fd[h];
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)st->map;
	a.key = (uint64_t)(uintptr_t)&key;
	if (!on)
		return sys_bpf(BPF_MAP_DELETE_ELEM, &a) != 0 &&
		    errno != ENOENT ? E_IO : 0;
	a.value = (uint64_t)(uintptr_t)&v;
	a.flags = BPF_ANY;
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &a) != 0 ? errno_code() : 0;
}

static int
load_and_attach(struct steer *st)
{
	static const char license[] = "Dual BSD/GPL";
	struct emit *e = calloc(1, sizeof(*e));
	union bpf_attr a;
	int ns, r = 0;

	if (e == NULL)
		return E_NOMEM;
	program(e, st);
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SK_LOOKUP;
	a.expected_attach_type = BPF_SK_LOOKUP;
	a.insns = (uint64_t)(uintptr_t)e->in;
	a.insn_cnt = e->n;
	a.license = (uint64_t)(uintptr_t)license;
	st->prog = (int)sys_bpf(BPF_PROG_LOAD, &a);
	free(e);
	if (st->prog < 0)
		return errno_code();
	if ((ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0)
		return E_IO;
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (uint32_t)st->prog;
	a.link_create.target_fd = (uint32_t)ns;
	a.link_create.attach_type = BPF_SK_LOOKUP;
	st->link = (int)sys_bpf(BPF_LINK_CREATE, &a);
	if (st->link < 0)
		r = errno_code();
	close(ns);
	return r;
}

/* The host's steering socket: bound to it, reporting destinations. */
static int
open_host(struct steer *st, unsigned i)
{
	struct net_addr a = st->host[i];
	int on = 1, big = STEER_RCVBUF, fd, e;

	net_addr_set_port(&a, 0);
	if ((e = net_udp_bind(&a, 0, &fd)) != 0)
		return e;
	/* every stream's packets wait here while the relay is busy or
	 * descheduled: more room than net.core.rmem_max allows (often
	 * 208 KiB), which steering's CAP_NET_ADMIN may take */
	net_set_bufs(fd, 16 << 20, 1 << 20);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	if (net_addr_family(&a) == AF_INET6 ?
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVORIGDSTADDR, &on,
	    sizeof(on)) != 0 :
	    setsockopt(fd, IPPROTO_IP, IP_RECVORIGDSTADDR, &on,
	    sizeof(on)) != 0) {
		close(fd);
		return E_IO;
	}
	st->fd[i] = fd;
	return 0;
}

struct steer *
steer_new(const struct net_addr *hosts, unsigned nhosts, uint16_t port_min,
    uint16_t port_max, int *err)
{
	struct steer *st;
	int e = 0;

	if (hosts == NULL || nhosts == 0 || nhosts > STEER_MAX_HOSTS ||
	    port_min == 0 || port_min > port_max) {
		*err = E_INVAL;
		return NULL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		*err = E_NOMEM;
		return NULL;
	}
	st->map = st->prog = st->link = -1;
	for (unsigned i = 0; i < STEER_MAX_HOSTS; i++)
		st->fd[i] = -1;
	for (unsigned i = 0; i < nhosts; i++) {
		int f = net_addr_family(&hosts[i]);

		if ((f != AF_INET && f != AF_INET6) ||
		    net_addr_is_any(&hosts[i])) {
			e = E_INVAL;
			goto fail;
		}
		st->host[i] = hosts[i];
	}
	st->n = nhosts;
	st->pmin = port_min;
	st->span = (uint32_t)(port_max - port_min) + 1;
	if ((e = make_map(st)) != 0)
		goto fail;
	for (unsigned i = 0; i < nhosts; i++)
		if ((e = open_host(st, i)) != 0)
			goto fail;
	if ((e = load_and_attach(st)) != 0)
		goto fail;
	return st;
fail:
	steer_free(st);
	*err = e;
	return NULL;
}

void
steer_free(struct steer *st)
{
	if (st == NULL)
		return;
	if (st->link >= 0)
		close(st->link);
	if (st->prog >= 0)
		close(st->prog);
	if (st->map >= 0)
		close(st->map);
	for (unsigned i = 0; i < STEER_MAX_HOSTS; i++)
		if (st->fd[i] >= 0)
			close(st->fd[i]);
	free(st);
}

int
steer_fd(const struct steer *st, unsigned i)
{
	return st != NULL && i < st->n ? st->fd[i] : -1;
}

int
steer_host(const struct steer *st, const struct net_addr *a)
{
	for (unsigned i = 0; st != NULL && i < st->n; i++)
		if (net_addr_host_eq(&st->host[i], a))
			return (int)i;
	return -1;
}
