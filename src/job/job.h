/*
 * Between the parts of the job (sh_job_run, sh_job_copy); not public.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_JOB_JOB_H
#define SH_JOB_JOB_H

/* Non-zero once sh_job_interrupt() was called (since the last sh_job_run began). */
int sh_job_interrupted(void);

#endif
