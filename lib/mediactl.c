/* mediactl.c - media control: SDP bodies through an ng relay, parked. */
#include <stdlib.h>

#include "mediactl.h"

/*
 * Placeholder until lib/ng lands: no relay can be configured yet, so the
 * proxy runs with bodies passed through unchanged.
 */
struct mediactl {
	int unused;
};

struct mediactl *
mediactl_new(struct ev_loop *loop, const struct mediactl_conf *conf,
    const struct logger *lg, int *err)
{
	(void)loop;
	(void)conf;
	(void)lg;
	*err = E_UNSUPPORTED;
	return NULL;
}

void
mediactl_free(struct mediactl *mc)
{
	free(mc);
}

void
mediactl_submit(struct mediactl *mc, const struct mediactl_req *rq,
    mediactl_fn *fn, void *arg)
{
	(void)mc;
	(void)rq;
	fn(arg, E_UNSUPPORTED, SLICE_NULL);
}

void
mediactl_delete(struct mediactl *mc, struct slice call_id)
{
	(void)mc;
	(void)call_id;
}
