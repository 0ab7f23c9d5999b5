/* placeholder until the command line lands */
#include <stdio.h>

int	main(void);

int
main(void)
{
	printf("moatd %s\n", MOATD_VERSION);
	return 0;
}
