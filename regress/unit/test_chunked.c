/* Unit tests for policy/chunked.c: strict incremental chunked framing. */

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "policy.h"

enum outcome { MORE, DONE, ERR };

struct chunk_case {
	const char	*in;
	size_t		 len;		/* 0: strlen(in) */
	enum outcome	 want;
	size_t		 end;		/* DONE: bytes that belong to the body */
};

#define BODY(s, e)	{ s, 0, DONE, e }
#define PART(s)		{ s, 0, MORE, 0 }
#define BAD(s)		{ s, 0, ERR, 0 }

/* 60 and 61 tchars: a ";name" line of exactly 64 bytes, then 65 */
#define N60	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct chunk_case cases[] = {
	/* valid bodies, the end found exactly */
	BODY("0\r\n\r\n", 5),
	BODY("5\r\nhello\r\n0\r\n\r\n", 15),
	BODY("5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 15),
	BODY("0\r\n\r\n0\r\n\r\n", 5),
	BODY("1\r\na\r\n2\r\nbc\r\n0\r\n\r\n", 18),
	BODY("A\r\n0123456789\r\n0\r\n\r\n", 20),
	BODY("a\r\n0123456789\r\n0\r\n\r\n", 20),
	BODY("000\r\n\r\n", 7),
	BODY("0000000000000001\r\nx\r\n0\r\n\r\n", 26),
	BODY("4\r\n\r\n\r\n\r\n0\r\n\r\n", 14),	/* CRLFs as data */
	BODY("3\r\n0\r\n\r\n0\r\n\r\n", 13),		/* "0\r\n" as data */
	/* token extensions */
	BODY("5;a=b\r\nhello\r\n0;x\r\n\r\n", 21),
	BODY("1;a;b=c;d\r\nx\r\n0\r\n\r\n", 19),
	BODY("1;!#$%&'*+-.^_`|~=~\r\nx\r\n0\r\n\r\n", 29),
	BODY("0;" N60 "\r\n\r\n", 66),
	/* incomplete: everything consumed, not done */
	PART(""),
	PART("5"),
	PART("5\r"),
	PART("5\r\nhel"),
	PART("5\r\nhello"),
	PART("5\r\nhello\r"),
	PART("5\r\nhello\r\n"),
	PART("0\r\n"),
	PART("0\r\n\r"),
	PART("5;a"),
	PART("5;a="),
	PART("ffffffffffffffff\r\nabc"),
	PART("FFFFFFFFFFFFFFFF\r\n"),
	/* chunk-size: digits only */
	BAD("0x10\r\n"),
	BAD("x\r\n"),
	BAD("-1\r\n"),
	BAD("+5\r\n"),
	BAD(" 5\r\n"),
	BAD("\t5\r\n"),
	BAD("5 \r\n"),
	BAD("5\t\r\n"),
	BAD("zz\r\n"),
	BAD("5g\r\n"),
	BAD("\r\n"),
	BAD(";a\r\n"),
	BAD("00000000000000001\r\n"),			/* 17 digits */
	BAD("10000000000000000\r\n"),
	BAD("ffffffffffffffffff\r\n"),			/* overflow */
	BAD("FFFFFFFFFFFFFFFFF"),
	/* CRLF only */
	BAD("5\nhello\r\n0\r\n\r\n"),
	BAD("5\r\r\n"),
	BAD("5\rx"),
	BAD("5\r\nhello\n0\r\n\r\n"),
	BAD("5\r\nhello\r0\r\n\r\n"),
	BAD("5\r\nhello\rX0\r\n\r\n"),
	BAD("1\r\na\r\r0\r\n\r\n"),
	BAD("1\r\na\n\r0\r\n\r\n"),
	BAD("0\r\n\rX"),
	BAD("0\n\r\n"),
	BAD("0\r\n\n"),
	BAD("0\r\n\r\r"),
	/* exactly CRLF after the data */
	BAD("5\r\nhelloX\r\n0\r\n\r\n"),			/* data longer */
	BAD("5\r\nhello0\r\n\r\n"),			/* CRLF missing */
	BAD("5\r\nhel\r\n0\r\n\r\n0\r\n\r\n"),		/* data shorter */
	/* trailers refused */
	BAD("0\r\nX-Foo: bar\r\n\r\n"),
	BAD("0\r\nHost: evil\r\n\r\n"),
	BAD("0\r\n \r\n\r\n"),
	/* extensions: tokens only, no BWS, no quoted-string */
	BAD("5 ;a\r\n"),
	BAD("5; a\r\n"),
	BAD("5;a =b\r\n"),
	BAD("5;a= b\r\n"),
	BAD("5;a=b \r\n"),
	BAD("5;a=\"b\"\r\n"),
	BAD("5;\r\n"),
	BAD("5;;a\r\n"),
	BAD("5;a=\r\n"),
	BAD("5;a==b\r\n"),
	BAD("5;a=b=c\r\n"),
	BAD("5;a\nx"),
	BAD("5;a,b\r\n"),
	BAD("0;" N60 "a\r\n\r\n"),			/* 65-byte line */
	/* NUL and other bytes in the size line */
	{ "5\0\r\n", 4, ERR, 0 },
	{ "\0", 1, ERR, 0 },
	{ "5;a\0\r\n", 6, ERR, 0 },
};

/* Feed in pieces of step bytes (0: all at once), as the relay would. */
static enum outcome
feed(const char *in, size_t len, size_t step, size_t *end)
{
	struct chunked	 ch;
	size_t		 off = 0, n;
	ssize_t		 r;
	int		 done = 0;

	chunked_init(&ch);
	*end = 0;
	do {
		n = len - off;
		if (step != 0 && n > step)
			n = step;
		r = chunked_feed(&ch, (const uint8_t *)in + off, n, &done);
		if (r == -1)
			return ERR;
		ck_assert_int_ge(r, 0);
		ck_assert_uint_le((size_t)r, n);
		off += (size_t)r;
		if (done) {
			*end = off;
			/* once done, nothing more is consumed */
			if (off < len) {
				r = chunked_feed(&ch,
				    (const uint8_t *)in + off, len - off, &done);
				ck_assert_int_eq(r, 0);
				ck_assert_int_eq(done, 1);
			}
			return DONE;
		}
		/* not done, no error: every byte offered was consumed */
		ck_assert_uint_eq((size_t)r, n);
	} while (off < len);
	return MORE;
}

START_TEST(test_chunked_table)
{
	const struct chunk_case	*c = &cases[_i];
	static const size_t	 steps[] = { 0, 1, 2, 3, 4, 7, 16 };
	size_t			 len, end, i;
	enum outcome		 got;

	len = c->len != 0 ? c->len : strlen(c->in);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		got = feed(c->in, len, steps[i], &end);
		ck_assert_msg(got == c->want,
		    "case %d, step %zu: outcome %d, want %d", _i, steps[i],
		    got, c->want);
		if (got == DONE)
			ck_assert_msg(end == c->end,
			    "case %d, step %zu: end %zu, want %zu", _i,
			    steps[i], end, c->end);
	}
}
END_TEST

/* Every way to cut a valid body in two or three gives the same end. */
START_TEST(test_chunked_splits)
{
	const char	 body[] = "4;e=1\r\nWiki\r\n5\r\npedia\r\n"
	    "E\r\n in\r\n\r\nchunks.\r\n0\r\n\r\nNEXT";
	struct chunked	 ch;
	size_t		 len = sizeof(body) - 1, end = len - 4, k, j;
	ssize_t		 r1, r2, r3;
	int		 done;

	for (k = 0; k < end; k++) {
		for (j = k; j <= len; j++) {
			chunked_init(&ch);
			done = 0;
			r1 = chunked_feed(&ch, (const uint8_t *)body, k,
			    &done);
			ck_assert_int_eq(r1, (ssize_t)k);
			ck_assert_int_eq(done, 0);
			r2 = chunked_feed(&ch, (const uint8_t *)body + k,
			    j - k, &done);
			if (j < end) {
				ck_assert_int_eq(r2, (ssize_t)(j - k));
				ck_assert_int_eq(done, 0);
			} else {
				ck_assert_int_eq(r1 + r2, (ssize_t)end);
				ck_assert_int_eq(done, 1);
			}
			r3 = chunked_feed(&ch, (const uint8_t *)body + k + r2,
			    len - k - (size_t)r2, &done);
			ck_assert_int_eq(k + (size_t)r2 + (size_t)r3, end);
			ck_assert_int_eq(done, 1);
		}
	}
}
END_TEST

/* A large chunk is counted down across feeds, without buffering. */
START_TEST(test_chunked_large)
{
	struct chunked	 ch;
	uint8_t		*buf;
	size_t		 size = 0x12345, off = 0, n;
	ssize_t		 r;
	int		 done = 0;

	buf = malloc(size);
	ck_assert_ptr_nonnull(buf);
	memset(buf, '\n', size);	/* data bytes are not looked at */
	chunked_init(&ch);
	ck_assert_int_eq(chunked_feed(&ch, (const uint8_t *)"12345\r\n", 7,
	    &done), 7);
	while (off < size) {
		n = size - off < 4096 ? size - off : 4096;
		r = chunked_feed(&ch, buf + off, n, &done);
		ck_assert_int_eq(r, (ssize_t)n);
		ck_assert_int_eq(done, 0);
		off += n;
	}
	ck_assert_int_eq(chunked_feed(&ch, (const uint8_t *)"\r\n0\r\n\r\nX",
	    8, &done), 7);
	ck_assert_int_eq(done, 1);
	free(buf);
}
END_TEST

/* An error sticks: the connection closes, nothing is forwarded after. */
START_TEST(test_chunked_error_sticky)
{
	struct chunked	 ch;
	int		 done = 1;

	chunked_init(&ch);
	ck_assert_int_eq(chunked_feed(&ch, (const uint8_t *)"5\n", 2, &done),
	    -1);
	ck_assert_int_eq(done, 0);
	ck_assert_int_eq(chunked_feed(&ch, (const uint8_t *)"0\r\n\r\n", 5,
	    &done), -1);
	ck_assert_int_eq(done, 0);
	/* init makes the state reusable for the next body */
	chunked_init(&ch);
	ck_assert_int_eq(chunked_feed(&ch, (const uint8_t *)"0\r\n\r\n", 5,
	    &done), 5);
	ck_assert_int_eq(done, 1);
	ck_assert_int_eq(chunked_feed(&ch, (const uint8_t *)"", 0, &done), 0);
	ck_assert_int_eq(done, 1);
}
END_TEST

/* The largest size is accepted; the relay counts it down. */
START_TEST(test_chunked_max_size)
{
	struct chunked	 ch;
	int		 done = 0;

	chunked_init(&ch);
	ck_assert_int_eq(chunked_feed(&ch,
	    (const uint8_t *)"ffffffffffffffff\r\n", 18, &done), 18);
	ck_assert_uint_eq(ch.remain, UINT64_MAX);
	chunked_init(&ch);
	ck_assert_int_eq(chunked_feed(&ch,
	    (const uint8_t *)"7fffFFFFffffFFFF\r\n", 18, &done), 18);
	ck_assert_uint_eq(ch.remain, UINT64_MAX >> 1);
}
END_TEST

Suite *
chunked_suite(void)
{
	Suite	*s = suite_create("chunked");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, test_chunked_table, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_chunked_splits);
	tcase_add_test(tc, test_chunked_large);
	tcase_add_test(tc, test_chunked_error_sticky);
	tcase_add_test(tc, test_chunked_max_size);
	suite_add_tcase(s, tc);
	return s;
}
