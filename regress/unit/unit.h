/* Shared by the unit tests: the declarations of every module's suite. */
#ifndef MOATD_UNIT_H
#define MOATD_UNIT_H

#include <check.h>

#define SUITE(name)	Suite *name##_suite(void);
#include "suites.h"
#undef SUITE

#endif
