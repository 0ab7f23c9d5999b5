/* Unit test runner: every module's Check suite in one SRunner. */

#include <stdlib.h>

#include "unit.h"

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(NULL);
#define SUITE(name)	srunner_add_suite(sr, name##_suite());
#include "suites.h"
#undef SUITE
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
