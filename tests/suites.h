/* The Check suites that tests/check_main.c runs. */
#ifndef SENDQ_TEST_SUITES_H
#define SENDQ_TEST_SUITES_H

#include <check.h>

Suite	*buf_suite(void);
Suite	*addr_suite(void);
Suite	*smtp_suite(void);
Suite	*transcript_suite(void);
Suite	*queue_suite(void);
Suite	*mail_suite(void);
Suite	*conf_suite(void);
Suite	*util_suite(void);
Suite	*sasl_suite(void);
Suite	*smtpd_suite(void);
Suite	*alias_suite(void);
Suite	*resolve_suite(void);
Suite	*bounce_suite(void);
Suite	*stream_suite(void);
Suite	*plan_suite(void);
Suite	*deliver_suite(void);
Suite	*explain_suite(void);
Suite	*oauth2_suite(void);
Suite	*notify_suite(void);

#endif
