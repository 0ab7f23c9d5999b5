/*
 * One Check suite per module.  Each test_<module>.c defines
 * Suite *<module>_suite(void); add one SUITE() line here per file.
 */
SUITE(log)
SUITE(canon)
SUITE(chunked)
SUITE(rules)
SUITE(vars)
SUITE(re2)
SUITE(http)
SUITE(response)
SUITE(decide)
SUITE(verdict)
SUITE(msg)
SUITE(proc)
SUITE(drop)
SUITE(sandbox)
SUITE(sd)
SUITE(parse)
SUITE(tls)
SUITE(ca)
SUITE(fwd)
SUITE(vcache)
