#include "roche.h"
int roche_header_check_c;
