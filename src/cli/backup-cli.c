/* placeholder: replaced by the component owner */
#include "config.h"

#include <stdio.h>

#include "backup-cli.h"

gboolean
backup_cli_wants_cli (int argc, char **argv)
{
  return argc > 1;
}

int
backup_cli_main (int argc, char **argv)
{
  fprintf (stderr, "distributed-backup: not available yet\n");
  return 2;
}
