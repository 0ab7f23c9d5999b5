/*
 * One Check suite per module.  Each test_<module>.c defines
 * Suite *<module>_suite(void); add one SUITE() line here per file.
 */
SUITE(log)
SUITE(msg)
SUITE(drop)
SUITE(sandbox)
