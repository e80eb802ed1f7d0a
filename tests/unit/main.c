/*
 * main.c: run every CUnit suite; the exit status says whether all passed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <CUnit/Basic.h>

#include "unit.h"

int
main(void)
{
	unsigned	failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return (99);
	suite_controlproto();
	suite_csv();
	suite_decimal();
	suite_geo();
	suite_herdkey();
	suite_iso6709();
	suite_location();
	suite_log();
	suite_metrics();
	suite_peerproto();
	suite_placesjson();
	suite_proto();
	suite_retain();
	suite_settings();
	suite_sniff();
	suite_sockwrite();
	suite_store();
	suite_store_vfs();
	suite_topology();
	suite_tstamp();

	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return (failed == 0 ? 0 : 1);
}
