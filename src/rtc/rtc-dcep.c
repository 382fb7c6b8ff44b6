/* placeholder: replaced by the component owner */
#include "config.h"
