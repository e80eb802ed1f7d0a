/*
 * unit.h: each test_*.c file registers one CUnit suite.
 */
#ifndef HERD_UNIT_H
#define HERD_UNIT_H

#include <stddef.h>

#include <CUnit/CUnit.h>

int	unit_mkdir(char *, size_t);
void	unit_rmdir(const char *);

void	suite_controlproto(void);
void	suite_csv(void);
void	suite_decimal(void);
void	suite_geo(void);
void	suite_iso6709(void);
void	suite_location(void);
void	suite_log(void);
void	suite_metrics(void);
void	suite_placesjson(void);
void	suite_proto(void);
void	suite_retain(void);
void	suite_settings(void);
void	suite_sniff(void);
void	suite_sockwrite(void);
void	suite_store(void);
void	suite_store_vfs(void);
void	suite_topology(void);
void	suite_herdkey(void);
void	suite_peerproto(void);
void	suite_tstamp(void);

/* Add a suite of tests given as { "name", fn } pairs. */
#define UNIT_SUITE(name, ...) do {					\
	CU_pSuite	 s_;						\
	CU_TestInfo	 t_[] = { __VA_ARGS__, CU_TEST_INFO_NULL };	\
	CU_TestInfo	*i_;						\
									\
	s_ = CU_add_suite(name, NULL, NULL);				\
	for (i_ = t_; i_->pName != NULL; i_++)				\
		CU_add_test(s_, i_->pName, i_->pTestFunc);		\
} while (0)

#endif
