/* Throwaway stub until h-ctable's policy/ctable.c lands: an empty table. */
#include <stdlib.h>
#include <string.h>

#include "mbuf.h"
#include "ctable.h"

void ctab_init(struct ctab *t) { memset(t, 0, sizeof(*t)); }
void ctab_free(struct ctab *t) { free(t->e); free(t->byaddr); ctab_init(t); }
int ctab_parse_list(struct ctab *t, const char *b, size_t l, char *why,
    size_t wl) { ctab_init(t); return 0; }
int ctab_index(struct ctab *t) { return 0; }
const struct ctab_entry *ctab_byid(const struct ctab *t, const char *id)
{ return NULL; }
const struct ctab_entry *ctab_byaddr(const struct ctab *t, const char *a)
{ return NULL; }
int ctab_encode(const struct ctab *t, struct mbuf *m)
{ mbuf_add_u32(m, 0); return m->err ? -1 : 0; }
int ctab_decode(struct ctab *t, struct mbuf *m)
{ uint32_t n; ctab_init(t); return mbuf_get_u32(m, &n) == -1 || n != 0 ||
    mbuf_end(m) == -1 ? -1 : 0; }
void ctab_resp_init(struct ctab_resp *r, int k)
{ memset(r, 0, sizeof(*r)); r->keep_body = k; }
void ctab_resp_free(struct ctab_resp *r) { free(r->head); free(r->body); }
int ctab_resp_feed(struct ctab_resp *r, const uint8_t *b, size_t l, int eof,
    size_t *nb, char *why, size_t wl)
{ *nb = 0; r->state = CTAB_RESP_BODY; return eof ? 1 : 0; }
