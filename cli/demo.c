/* demo.c - `gpuhour demo`: the whole story on a local devnet. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int
cli_demo_main(int argc, char **argv)
{
	if (argc > 1
	    && (strcmp(argv[1], "--help") == 0
	        || strcmp(argv[1], "-h") == 0)) {
		printf("usage: gpuhour demo\n\n"
		       "Runs the whole story on a devnet on loopback.\n");
		return (CLI_EXIT_OK);
	}
	if (argc > 1) {
		return (cli_usage_error(
		    "demo", "unexpected argument '%s'", argv[1]));
	}
	fprintf(stderr,
	    "gpuhour demo: the demo is not there yet: it needs the ledger,\n"
	    "network, market and jobs, which have not landed.\n");
	return (CLI_EXIT_FAIL);
}
