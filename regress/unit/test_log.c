/* Unit tests for privsep/log.c: level filtering and the parent sink. */

#include <string.h>
#include <syslog.h>

#include "unit.h"
#include "log.h"

static int	 sunk;
static int	 sunk_pri;
static char	 sunk_msg[256];

static void
sink(int pri, const char *msg)
{
	sunk++;
	sunk_pri = pri;
	strncpy(sunk_msg, msg, sizeof(sunk_msg) - 1);
}

START_TEST(test_log_level_filter)
{
	log_init(0, LOG_WARNING, LOG_DAEMON);
	log_setsink(sink);
	sunk = 0;
	log_info("dropped %d", 1);
	ck_assert_int_eq(sunk, 0);
	log_warnx("kept %d", 2);
	ck_assert_int_eq(sunk, 1);
	ck_assert_int_eq(sunk_pri, LOG_WARNING);
	ck_assert_str_eq(sunk_msg, "kept 2");
	log_setlevel(LOG_DEBUG);
	log_debug("debug %s", "now");
	ck_assert_int_eq(sunk, 2);
	ck_assert_str_eq(sunk_msg, "debug now");
	log_setsink(NULL);
	log_init(1, LOG_INFO, LOG_DAEMON);
}
END_TEST

Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_log_level_filter);
	suite_add_tcase(s, tc);
	return s;
}
