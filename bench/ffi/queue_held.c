/*
 * bench/ffi/queue_held.c: queues N held plain batch jobs in the cluster of
 * $SLURM_CONF, as `sbatch --hold -p cpu -t 10 job.sh` would, but from one
 * process through libslurm's slurm_submit_batch_job(): bench/controller
 * fills three queues with 5,000 jobs each in seconds instead of starting
 * 15,000 sbatch processes. Every job still goes through slurmctld's
 * REQUEST_SUBMIT_BATCH_JOB and its job_submit plugin.
 *
 * Usage: queue_held COUNT PARTITION WORKDIR
 * Build: cc -O2 -o queue_held queue_held.c -lslurm (bench/controller builds
 * it against each release's headers and libslurm)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>

/* slurm_get_errno() (which returned errno) is gone from later releases. */
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(23, 2, 0)
#define submit_errno() errno
#else
#define submit_errno() slurm_get_errno()
#endif

int main(int argc, char **argv)
{
	if (argc != 4 || atol(argv[1]) <= 0) {
		fprintf(stderr, "usage: queue_held COUNT PARTITION WORKDIR\n");
		return 2;
	}
	long count = atol(argv[1]);
	char *env[] = { "PATH=/usr/bin:/bin", NULL };

	/* Before any other call (26.05's libslurm crashes without it). */
	slurm_init(NULL);

	for (long i = 0; i < count; i++) {
		job_desc_msg_t desc;
		submit_response_msg_t *resp = NULL;

		slurm_init_job_desc_msg(&desc);
		desc.name = "filler";
		desc.partition = argv[2];
		desc.time_limit = 10;
		desc.priority = 0; /* held, as sbatch --hold */
		desc.min_nodes = 1;
		desc.user_id = getuid();
		desc.group_id = getgid();
		desc.work_dir = argv[3];
		desc.std_out = "/dev/null";
		desc.script = "#!/bin/sh\ntrue\n";
		desc.environment = env;
		desc.env_size = 1;
		if (slurm_submit_batch_job(&desc, &resp) != SLURM_SUCCESS) {
			fprintf(stderr, "queue_held: job %ld of %ld: %s\n", i + 1, count,
				slurm_strerror(submit_errno()));
			return 1;
		}
		slurm_free_submit_response_response_msg(resp);
	}
	slurm_fini();
	return 0;
}
