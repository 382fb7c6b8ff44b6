/* placeholder: replaced by the component owner */
#include "config.h"

int
main (int argc, char **argv)
{
  return 1;
}
