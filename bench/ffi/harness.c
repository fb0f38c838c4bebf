/*
 * bench/ffi/harness.c: the exact cost of job_submit_hetpolicy.so's
 * job_submit(), measured in-process.
 *
 * The harness loads the plugin the way slurmctld does: dlopen(RTLD_LAZY)
 * into a process linked with libslurmfull, so Slurm's allocator
 * (slurm_xstrdup, slurm_xfree), its log functions and the slurm_conf
 * global are there for the plugin to find with dlsym. It checks
 * plugin_type and plugin_version, calls init(), then calls job_submit() in
 * a loop on job_desc_msg_t values built with slurm_init_job_desc_msg() and
 * slurm_xstrdup'd strings, as slurmctld receives them from sbatch, and
 * prints the time per call for accepted and rejected components.
 *
 * Each scenario is one submission: a plain job, or the components of a
 * hetjob in order (het_job_offset 0..N-1). After each call the fields the
 * plugin may set on accept (partition, qos, time_limit) are reset and
 * err_msg is freed, so every iteration sees the same input. The loop's own
 * cost (the same loop around an empty job_submit) is measured and
 * subtracted.
 *
 * The plugin finds its policy as in slurmctld: hetpolicy.yaml beside
 * slurm.conf, here through $SLURM_CONF (bench/ffi/run sets it).
 * Rejections are logged at info level, as slurmctld logs them: Slurm's log
 * goes to stderr, which --log redirects to a file (default /dev/null).
 *
 * Usage: harness [--quick] [--threads N] [--log FILE] [--only TEXT]
 *                [--iterations N] PLUGIN.so
 *   --quick     shorter runs (a smoke test)
 *   --threads N N threads call job_submit at once (23.02+ does that)
 *   --log FILE  where Slurm's log (stderr) goes
 *   --only TEXT time only the submissions whose name contains TEXT
 *   --pace N    pause 12 ms (untimed) after every N components, so the
 *               decision log's writer keeps up and every line is written
 *   --iterations N  N submissions per repetition instead of ~100 ms worth
 *               (for counting allocations, e.g. under valgrind)
 *   --who       the submissions of WHO_SCENARIOS, for
 *               bench/ffi/who-policy.yaml (rules about who submits)
 *   --cold      instead: the first call for each local user (a user
 *               database lookup) against the next ones
 * Built and run by bench/ffi/run.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>
#include <slurm/slurm_version.h>

/* Slurm's allocator, exported by libslurmfull (src/common/xstring.h and
 * xmalloc.h are not installed headers). */
extern char *slurm_xstrdup(const char *str);
extern void slurm_xfree(void **item);

typedef int (*job_submit_fn)(job_desc_msg_t *, uint32_t, char **);
typedef int (*init_fn)(void);

/* One component, as sbatch sends it. NULL/0 fields stay unset. */
typedef struct {
	const char *partition;
	const char *qos;
	const char *tres_per_job;
	const char *tres_per_node;
	const char *tres_per_task;
	uint32_t min_nodes;
	uint32_t num_tasks;
	uint16_t cpus_per_task;
	uint64_t pn_min_memory; /* MB; | MEM_PER_CPU for --mem-per-cpu */
	uint32_t time_limit;    /* minutes; 0 = not given (NO_VAL) */
	const char *std_out;
	const char *std_err;
	const char *account; /* -A */
	int batch;           /* sbatch: a batch script (else salloc/srun) */
} comp_spec_t;

/* One submission: a plain job (hetjob == 0) or a hetjob's components. */
typedef struct {
	const char *name;
	int accepted; /* expected verdict of the whole submission */
	int hetjob;
	int ncomp;
	comp_spec_t comp[4];
	uint32_t uid; /* the job's owner (user_id) */
} scenario_t;

#define MB_PER_CPU(mb) ((uint64_t)(mb) | MEM_PER_CPU)

/* Realistic submissions against the reference policy.yaml. */
static const scenario_t SCENARIOS[] = {
	{ "plain cpu job, default QOS and time set", 1, 0, 1,
	  { { .partition = "cpu", .num_tasks = 2, .cpus_per_task = 4,
	      .pn_min_memory = 8192,
	      .std_out = "/home/alice/runs/slurm-%j.out" } }, 1000 },
	{ "plain gpu job, QOS and time given", 1, 0, 1,
	  { { .partition = "gpu", .qos = "gpu", .tres_per_node = "gres:gpu:1",
	      .num_tasks = 1, .cpus_per_task = 8, .time_limit = 240,
	      .pn_min_memory = MB_PER_CPU(2048),
	      .std_out = "/home/alice/runs/train.out" } }, 1000 },
	{ "plain gpu job, routed to gpu", 1, 0, 1,
	  { { .tres_per_job = "gres:gpu:1", .num_tasks = 1, .time_limit = 60 } }, 1000 },
	{ "hetjob cpu + gpu (seed 000)", 1, 1, 2,
	  { { .partition = "cpu", .num_tasks = 2, .cpus_per_task = 4,
	      .pn_min_memory = 8192, .std_out = "/home/alice/runs/het.out" },
	    { .partition = "gpu", .tres_per_node = "gres:gpu:1", .num_tasks = 1,
	      .cpus_per_task = 2, .pn_min_memory = 16384,
	      .std_out = "/home/alice/runs/het.out" } }, 1000 },
	{ "hetjob of 4 components", 1, 1, 4,
	  { { .partition = "cpu", .num_tasks = 4, .time_limit = 120,
	      .std_out = "/home/alice/runs/four.out" },
	    { .partition = "gpu", .tres_per_node = "gres:gpu:1", .time_limit = 120,
	      .std_out = "/home/alice/runs/four.out" },
	    { .partition = "cpu", .qos = "long", .min_nodes = 1, .time_limit = 4000,
	      .std_out = "/home/alice/runs/four.out" },
	    { .tres_per_task = "gres:gpu:1", .num_tasks = 1, .time_limit = 120,
	      .std_out = "/home/alice/runs/four.out" } }, 1000 },
	{ "rejected: gpu requested on cpu", 0, 0, 1,
	  { { .partition = "cpu", .tres_per_node = "gres:gpu:1", .num_tasks = 1 } }, 1000 },
	{ "rejected: QOS over its time limit", 0, 0, 1,
	  { { .partition = "cpu", .qos = "normal", .time_limit = 3 * 1440 } }, 1000 },
	{ "rejected: hetjob component 1 with its own --output", 0, 1, 2,
	  { { .partition = "cpu", .std_out = "/home/alice/a.out" },
	    { .partition = "cpu", .std_out = "/home/alice/b.out" } }, 1000 },
};

/* Submissions against bench/ffi/who-policy.yaml (policy.yaml plus rules
 * about who submits: hpcadmin exempt, mallory denied, gpu only for account
 * physics, interactive jobs at most 8 hours), by the local users alice
 * (placeholder uid 1001), bob (1002), carol (1003, in group hpcadmin) and
 * mallory (1004), as container/lib/accounting.sh creates them. The
 * accepted ones give their QOS and time so that nothing is changed. */
#define SCRIPT "#!/bin/sh\nsrun ./run\n"
static const scenario_t WHO_SCENARIOS[] = {
	{ "who: cpu batch job, no -A (default account read)", 1, 0, 1,
	  { { .partition = "cpu", .qos = "normal", .num_tasks = 2,
	      .time_limit = 60, .pn_min_memory = 8192, .batch = 1,
	      .std_out = "/home/alice/runs/slurm-%j.out" } }, 1001 },
	{ "who: gpu batch job -A physics", 1, 0, 1,
	  { { .partition = "gpu", .qos = "gpu", .tres_per_node = "gres:gpu:1",
	      .account = "physics", .num_tasks = 1, .cpus_per_task = 8,
	      .time_limit = 240, .batch = 1,
	      .std_out = "/home/alice/runs/train.out" } }, 1001 },
	{ "who: interactive cpu job -A physics, 4 hours", 1, 0, 1,
	  { { .partition = "cpu", .qos = "normal", .account = "physics",
	      .num_tasks = 1, .time_limit = 240 } }, 1001 },
	{ "who: hetjob cpu + gpu -A physics", 1, 1, 2,
	  { { .partition = "cpu", .qos = "normal", .account = "physics",
	      .num_tasks = 2, .time_limit = 120, .batch = 1,
	      .std_out = "/home/alice/runs/het.out" },
	    { .partition = "gpu", .qos = "gpu", .account = "physics",
	      .tres_per_node = "gres:gpu:1", .num_tasks = 1, .time_limit = 120,
	      .std_out = "/home/alice/runs/het.out" } }, 1001 },
	{ "who: exempt (group hpcadmin) gpu job, no -A", 1, 0, 1,
	  { { .partition = "gpu", .qos = "gpu", .tres_per_node = "gres:gpu:1",
	      .num_tasks = 1, .time_limit = 60, .batch = 1 } }, 1003 },
	{ "rejected: who: denied user", 0, 0, 1,
	  { { .partition = "cpu", .qos = "normal", .time_limit = 60,
	      .batch = 1 } }, 1004 },
	{ "rejected: who: gpu without account physics", 0, 0, 1,
	  { { .partition = "gpu", .qos = "gpu", .tres_per_node = "gres:gpu:1",
	      .account = "chemistry", .time_limit = 60, .batch = 1 } }, 1002 },
	{ "rejected: who: interactive over 8 hours", 0, 0, 1,
	  { { .partition = "cpu", .qos = "normal", .account = "physics",
	      .time_limit = 600 } }, 1001 },
};

/* WHO_SCENARIOS name their users by the placeholder uids 1001 to 1004,
 * in this order; --who replaces them with the users' real uids. */
static const char *const WHO_USERS[] = { "alice", "bob", "carol", "mallory" };
#define WHO_COUNT (sizeof(WHO_SCENARIOS) / sizeof(WHO_SCENARIOS[0]))
static scenario_t who_scenarios[WHO_COUNT];

/* Fills who_scenarios with the real uids of WHO_USERS; 0 when one of them
 * does not exist here. */
static int map_who_users(void)
{
	uint32_t real[sizeof(WHO_USERS) / sizeof(WHO_USERS[0])];
	for (size_t i = 0; i < sizeof(WHO_USERS) / sizeof(WHO_USERS[0]); i++) {
		struct passwd *pw = getpwnam(WHO_USERS[i]);
		if (!pw)
			return 0;
		real[i] = pw->pw_uid;
	}
	for (size_t i = 0; i < WHO_COUNT; i++) {
		who_scenarios[i] = WHO_SCENARIOS[i];
		uint32_t placeholder = who_scenarios[i].uid;
		if (placeholder >= 1001 && placeholder < 1001 + sizeof(real) / sizeof(real[0]))
			who_scenarios[i].uid = real[placeholder - 1001];
	}
	return 1;
}

static const scenario_t *scenarios = SCENARIOS;
static size_t nscenarios = sizeof(SCENARIOS) / sizeof(SCENARIOS[0]);

static job_submit_fn plugin_job_submit;
static int quick;
static const char *only;
static long fixed_iterations;
/* --pace N: pause PACE_PAUSE_US after every N components, untimed. */
static long pace;
#define PACE_PAUSE_US 12000

static char *dup_or_null(const char *s)
{
	return s ? slurm_xstrdup(s) : NULL;
}

static void build(job_desc_msg_t *d, const comp_spec_t *c, int hetjob, int k,
		  uint32_t uid)
{
	slurm_init_job_desc_msg(d);
	d->partition = dup_or_null(c->partition);
	d->qos = dup_or_null(c->qos);
	d->tres_per_job = dup_or_null(c->tres_per_job);
	d->tres_per_node = dup_or_null(c->tres_per_node);
	d->tres_per_task = dup_or_null(c->tres_per_task);
	if (c->min_nodes)
		d->min_nodes = c->min_nodes;
	if (c->num_tasks)
		d->num_tasks = c->num_tasks;
	if (c->cpus_per_task)
		d->cpus_per_task = c->cpus_per_task;
	if (c->pn_min_memory)
		d->pn_min_memory = c->pn_min_memory;
	d->time_limit = c->time_limit ? c->time_limit : NO_VAL;
	d->std_out = dup_or_null(c->std_out);
	d->std_err = dup_or_null(c->std_err);
	d->account = dup_or_null(c->account);
	d->script = c->batch && k == 0 ? slurm_xstrdup(SCRIPT) : NULL;
	d->std_in = slurm_xstrdup("/dev/null"); /* what sbatch sends */
	d->work_dir = slurm_xstrdup("/home/alice/runs");
	d->name = slurm_xstrdup("bench");
	d->user_id = uid;
	d->group_id = 1000;
	d->het_job_offset = hetjob ? (uint32_t)k : NO_VAL;
}

/* Undoes what job_submit may have set on accept. */
static void reset(job_desc_msg_t *d, const comp_spec_t *c)
{
	if (!c->partition && d->partition)
		slurm_xfree((void **)&d->partition);
	if (!c->qos && d->qos)
		slurm_xfree((void **)&d->qos);
	d->time_limit = c->time_limit ? c->time_limit : NO_VAL;
}

static void release(job_desc_msg_t *d)
{
	void **fields[] = {
		(void **)&d->partition, (void **)&d->qos,
		(void **)&d->tres_per_job, (void **)&d->tres_per_node,
		(void **)&d->tres_per_task, (void **)&d->std_out,
		(void **)&d->std_err, (void **)&d->std_in,
		(void **)&d->work_dir, (void **)&d->name,
		(void **)&d->account, (void **)&d->script,
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		slurm_xfree(fields[i]);
}

/* The loop around an empty job_submit: what the harness itself costs. */
static int empty_job_submit(job_desc_msg_t *d, uint32_t uid, char **err)
{
	(void)uid;
	(void)err;
	__asm__ __volatile__("" : : "r"(d) : "memory");
	return SLURM_SUCCESS;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Submits scenario `s` `iters` times with `fn`; returns ns per submission.
 * Dies if a verdict differs from the expected one. */
static double run(const scenario_t *s, job_desc_msg_t *descs, long iters,
		  job_submit_fn fn)
{
	double t0 = now_ns(), timed = 0;
	long since_pause = 0;
	for (long i = 0; i < iters; i++) {
		if (pace && since_pause >= pace) {
			/* Let the decision log's writer take the queued lines
			 * (it drains every 10 ms); the pause is not timed. */
			timed += now_ns() - t0;
			usleep(PACE_PAUSE_US);
			t0 = now_ns();
			since_pause = 0;
		}
		since_pause += s->ncomp;
		for (int k = 0; k < s->ncomp; k++) {
			char *err = NULL;
			int rc = fn(&descs[k], 1000, &err);
			if (err)
				slurm_xfree((void **)&err);
			reset(&descs[k], &s->comp[k]);
			if (rc != SLURM_SUCCESS) {
				if (s->accepted) {
					fprintf(stdout, "harness: error: %s: component %d rejected (rc %d)\n",
						s->name, k, rc);
					exit(1);
				}
				break; /* slurmctld stops at the first rejection */
			}
		}
	}
	timed += now_ns() - t0;
	return timed / (double)iters;
}

/* Calls the plugin job_submit() once per component and prints the verdict
 * and message: the harness checks its input before timing anything. The
 * first submission of a user starts a user database lookup that may not
 * answer in time (under valgrind, say): a verdict that differs from the
 * one expected is retried for up to 5 s before it counts, so the cache is
 * warm before anything is timed. */
static void check_verdicts(void)
{
	for (size_t i = 0; i < nscenarios; i++) {
		const scenario_t *s = &scenarios[i];
		for (int attempt = 0;; attempt++) {
			job_desc_msg_t descs[4];
			int rejected = 0, last = attempt == 50;
			for (int k = 0; k < s->ncomp; k++)
				build(&descs[k], &s->comp[k], s->hetjob, k, s->uid);
			for (int k = 0; k < s->ncomp && !rejected; k++) {
				char *err = NULL;
				int rc = plugin_job_submit(&descs[k], s->uid, &err);
				if (rc != SLURM_SUCCESS) {
					rejected = 1;
					if (last || !s->accepted)
						printf("  %-50s component %d: rc %d: %s\n", s->name, k,
						       rc, err ? err : "(no message)");
				}
				if (err)
					slurm_xfree((void **)&err);
			}
			for (int k = 0; k < s->ncomp; k++)
				release(&descs[k]);
			if (rejected != s->accepted)
				break;
			if (last) {
				printf("harness: error: %s: expected %s\n", s->name,
				       s->accepted ? "accept" : "reject");
				exit(1);
			}
			usleep(100000);
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

typedef struct {
	const scenario_t *s;
	int reps;
	double target_ns; /* time per repetition */
	double median;    /* ns per submission, loop cost subtracted */
	double min;
} measure_t;

static void *measure(void *arg)
{
	measure_t *m = arg;
	const scenario_t *s = m->s;
	job_desc_msg_t descs[4];
	double plugin[32], empty[32];
	for (int k = 0; k < s->ncomp; k++)
		build(&descs[k], &s->comp[k], s->hetjob, k, s->uid);
	/* Warm up (the first call of a thread sets up its state), then size
	 * the loop to about target_ns per repetition. */
	double per = run(s, descs, quick ? 200 : 2000, plugin_job_submit);
	long iters = (long)(m->target_ns / (per > 1 ? per : 1));
	if (iters < 100)
		iters = 100;
	if (fixed_iterations)
		iters = fixed_iterations;
	for (int r = 0; r < m->reps; r++) {
		empty[r] = run(s, descs, iters, empty_job_submit);
		plugin[r] = run(s, descs, iters, plugin_job_submit);
	}
	qsort(plugin, m->reps, sizeof(double), cmp_double);
	qsort(empty, m->reps, sizeof(double), cmp_double);
	m->median = plugin[m->reps / 2] - empty[m->reps / 2];
	m->min = plugin[0] - empty[0];
	for (int k = 0; k < s->ncomp; k++)
		release(&descs[k]);
	return NULL;
}

/* The user database lookups hetpolicy makes for `uid` (getpwuid_r,
 * getgrouplist, getgrgid_r per group), made here; ns. */
static double nss_lookup(uint32_t uid)
{
	char buf[1 << 16];
	struct passwd pw, *found = NULL;
	double t0 = now_ns();
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found) {
		gid_t gids[256];
		int n = 256;
		char name[256];
		snprintf(name, sizeof(name), "%s", pw.pw_name);
		if (getgrouplist(name, pw.pw_gid, gids, &n) >= 0) {
			for (int i = 0; i < n; i++) {
				struct group gr, *g = NULL;
				getgrgid_r(gids[i], &gr, buf, sizeof(buf), &g);
			}
		}
	}
	return now_ns() - t0;
}

/* The first job_submit() for each local user (getpwent), when hetpolicy
 * has not looked the user up yet (a cold cache: a helper thread reads the
 * name and the groups from NSS while the call waits), against the next
 * one (warm: the cached answer) and the median of 1000 more, and the
 * same user database lookups made directly (after the plugin's). */
static void cold_lookups(void)
{
	uint32_t uids[256];
	int n = 0;
	struct passwd *pw;
	setpwent();
	while ((pw = getpwent()) && n < 255)
		uids[n++] = pw->pw_uid;
	endpwent();
	uids[n++] = 3999999999u; /* unknown to NSS */
	const comp_spec_t *c = &WHO_SCENARIOS[0].comp[0];
	double cold[256], warm[256], nss[256];
	printf("%-12s %12s %12s %12s %12s\n", "uid", "cold ns", "2nd call ns", "warm ns",
	       "NSS ns");
	for (int i = 0; i < n; i++) {
		job_desc_msg_t d;
		char *err = NULL;
		build(&d, c, 0, 0, uids[i]);
		double t0 = now_ns();
		plugin_job_submit(&d, uids[i], &err);
		double t1 = now_ns();
		if (err)
			slurm_xfree((void **)&err);
		reset(&d, c);
		plugin_job_submit(&d, uids[i], &err);
		double t2 = now_ns();
		if (err)
			slurm_xfree((void **)&err);
		reset(&d, c);
		double each[1000];
		for (int r = 0; r < 1000; r++) {
			double a = now_ns();
			plugin_job_submit(&d, uids[i], &err);
			each[r] = now_ns() - a;
			if (err)
				slurm_xfree((void **)&err);
			reset(&d, c);
		}
		qsort(each, 1000, sizeof(double), cmp_double);
		cold[i] = t1 - t0;
		warm[i] = each[500];
		nss[i] = nss_lookup(uids[i]);
		printf("%-12u %12.0f %12.0f %12.0f %12.0f\n", uids[i], cold[i], t2 - t1,
		       warm[i], nss[i]);
		release(&d);
	}
	qsort(cold, n, sizeof(double), cmp_double);
	qsort(warm, n, sizeof(double), cmp_double);
	qsort(nss, n, sizeof(double), cmp_double);
	printf("\n%d uids: cold call median %.0f ns, max %.0f ns; warm call median %.0f ns, max %.0f ns;\n"
	       "the same NSS lookups made directly: median %.0f ns, max %.0f ns\n",
	       n, cold[n / 2], cold[n - 1], warm[n / 2], warm[n - 1], nss[n / 2], nss[n - 1]);
}

static void usage(void)
{
	fprintf(stdout, "usage: harness [--quick] [--threads N] [--log FILE] [--only TEXT] [--iterations N] [--pace N] [--who] [--cold] PLUGIN.so\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *path = NULL, *logfile = "/dev/null";
	int threads = 1, cold = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--log") && i + 1 < argc)
			logfile = argv[++i];
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--iterations") && i + 1 < argc)
			fixed_iterations = atol(argv[++i]);
		else if (!strcmp(argv[i], "--pace") && i + 1 < argc)
			pace = atol(argv[++i]);
		else if (!strcmp(argv[i], "--who")) {
			if (!map_who_users()) {
				printf("harness: the users alice, bob, carol and mallory are missing "
				       "(container/cluster up --accounting creates them): no --who set\n");
				return 0;
			}
			scenarios = who_scenarios;
			nscenarios = WHO_COUNT;
		} else if (!strcmp(argv[i], "--cold"))
			cold = 1;
		else if (argv[i][0] == '-' || path)
			usage();
		else
			path = argv[i];
	}
	if (!path || threads < 1 || threads > 64 || fixed_iterations < 0)
		usage();
	if (!getenv("SLURM_CONF")) {
		fprintf(stdout, "harness: error: set SLURM_CONF; the plugin reads hetpolicy.yaml beside it\n");
		return 1;
	}

	/* Slurm logs to stderr in a process without log_init (info level). */
	int fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) {
		fprintf(stdout, "harness: error: %s: %s\n", logfile, strerror(errno));
		return 1;
	}
	close(fd);

	void *plugin = dlopen(path, RTLD_LAZY);
	if (!plugin) {
		fprintf(stdout, "harness: error: dlopen: %s\n", dlerror());
		return 1;
	}
	const char *type = dlsym(plugin, "plugin_type");
	const uint32_t *version = dlsym(plugin, "plugin_version");
	init_fn init = (init_fn)dlsym(plugin, "init");
	init_fn fini = (init_fn)dlsym(plugin, "fini");
	plugin_job_submit = (job_submit_fn)dlsym(plugin, "job_submit");
	if (!type || strcmp(type, "job_submit/hetpolicy") || !version ||
	    *version != SLURM_VERSION_NUMBER || !init || !plugin_job_submit) {
		fprintf(stdout, "harness: error: %s is not job_submit/hetpolicy for Slurm %d.%02d.%d\n",
			path, SLURM_VERSION_MAJOR(SLURM_VERSION_NUMBER),
			SLURM_VERSION_MINOR(SLURM_VERSION_NUMBER),
			SLURM_VERSION_MICRO(SLURM_VERSION_NUMBER));
		return 1;
	}
	if (init() != SLURM_SUCCESS) {
		fprintf(stdout, "harness: error: init() failed\n");
		return 1;
	}

	printf("job_submit/hetpolicy in-process, Slurm %d.%02d.%d, SLURM_CONF=%s\n",
	       SLURM_VERSION_MAJOR(SLURM_VERSION_NUMBER),
	       SLURM_VERSION_MINOR(SLURM_VERSION_NUMBER),
	       SLURM_VERSION_MICRO(SLURM_VERSION_NUMBER), getenv("SLURM_CONF"));
	if (cold) {
		cold_lookups();
		if (fini)
			fini();
		return 0;
	}
	printf("verdicts:\n");
	check_verdicts();

	int reps = quick ? 3 : 9;
	double target = quick ? 2e7 : 1e8;
	printf("\n%d thread(s), %d repetitions of ~%.0f ms each; loop cost subtracted\n",
	       threads, reps, target / 1e6);
	printf("%-52s %8s %6s %12s %12s %12s\n", "submission", "verdict", "calls",
	       "ns/call", "min ns/call", "ns/submit");
	double acc_sum = 0, rej_sum = 0;
	int acc_n = 0, rej_n = 0;
	for (size_t i = 0; i < nscenarios; i++) {
		const scenario_t *s = &scenarios[i];
		if (only && !strstr(s->name, only))
			continue;
		measure_t m[64];
		pthread_t tid[64];
		for (int t = 0; t < threads; t++) {
			m[t] = (measure_t){ .s = s, .reps = reps, .target_ns = target };
			if (pthread_create(&tid[t], NULL, measure, &m[t])) {
				fprintf(stdout, "harness: error: pthread_create\n");
				return 1;
			}
		}
		double median = 0, min = 1e18;
		for (int t = 0; t < threads; t++) {
			pthread_join(tid[t], NULL);
			median += m[t].median / threads;
			if (m[t].min < min)
				min = m[t].min;
		}
		/* In every rejected scenario the last component is the one
		 * rejected, so each scenario makes ncomp calls. */
		int calls = s->ncomp;
		printf("%-52s %8s %6d %12.0f %12.0f %12.0f\n", s->name,
		       s->accepted ? "accept" : "reject", calls, median / calls,
		       min / calls, median);
		if (s->accepted) {
			acc_sum += median / calls;
			acc_n++;
		} else {
			rej_sum += median / calls;
			rej_n++;
		}
	}
	if (acc_n)
		printf("\nmean ns per call: accepted %.0f", acc_sum / acc_n);
	if (rej_n)
		printf("%s rejected %.0f", acc_n ? "," : "\nmean ns per call:", rej_sum / rej_n);
	printf("\n");
	if (fini)
		fini();
	return 0;
}
