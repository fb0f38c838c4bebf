/*
 * host.c: a small stand-in for slurmctld that loads job_submit_hetpolicy.so
 * and calls its entry points with hostile job descriptions.
 *
 * Built and run by tests/ffi_host.rs (usually under valgrind):
 *
 *   cc -O1 -g -o host tests/ffi/host.c -I/usr/include \
 *      -L/usr/lib/x86_64-linux-gnu/slurm-wlm -lslurmfull \
 *      -Wl,-rpath,/usr/lib/x86_64-linux-gnu/slurm-wlm -ldl -lpthread
 *   SLURM_CONF=<dir>/slurm.conf ./host <plugin.so> <mode>
 *
 * The plugin reads <dir>/hetpolicy.yaml (tests/fixtures/ffi-policy.yaml). Linking
 * libslurmfull gives the plugin Slurm's real allocator and log functions
 * (it finds them with dlsym(RTLD_DEFAULT)), exactly as inside slurmctld:
 * every job_desc string is allocated with slurm_xstrdup, and every string
 * the plugin hands back (err_msg, a routed partition, a default QOS) is
 * freed with slurm_xfree.
 *
 * Modes:
 *   hostile  NULL pointers, NO_VAL/NO_VAL16/NO_VAL64/INFINITE in every
 *            numeric field the plugin reads, non-UTF-8 bytes, 100 KB
 *            strings, absurd GRES strings, hetjob sequences, job_modify,
 *            and 4 threads submitting at once; every verdict is checked.
 *   fault    the plugin is built with the fault-injection feature: the
 *            partition hetpolicy-test-panic panics inside the judging path;
 *            the job must be rejected with a clear message, and the plugin
 *            must go on judging afterwards.
 *   closed   no valid policy: every job is rejected (Access denied) with
 *            the "contact your administrator" message.
 *   open     no valid policy, but the file says on_error: accept: every
 *            job is accepted unchanged.
 *
 * Prints one line per check and a summary; exits 0 only when all pass.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>

/* libslurmfull's allocator (src/common/xmalloc.h, src/common/xstring.h). */
extern void *slurm_xcalloc(size_t count, size_t size, bool clear, bool try,
			   const char *file, int line, const char *func);
extern void slurm_xfree(void **item);
extern char *slurm_xstrdup(const char *str);

#define xmalloc(sz) slurm_xcalloc(1, (sz), true, false, __FILE__, __LINE__, __func__)
#define xfree(p) slurm_xfree((void **)&(p))

typedef int (*init_fn)(void);
typedef int (*submit_fn)(job_desc_msg_t *, uint32_t, char **);
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(23, 2, 0)
typedef int (*modify_fn)(job_desc_msg_t *, void *, uint32_t, char **);
#else
typedef int (*modify_fn)(job_desc_msg_t *, void *, uint32_t);
#endif

static submit_fn job_submit;
static modify_fn job_modify;

static int checks, failures;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;

#define BIG (100 * 1024)

/* ------------------------------------------------------------ job_desc */

static job_desc_msg_t *new_desc(void)
{
	job_desc_msg_t *desc = xmalloc(sizeof(*desc));
	slurm_init_job_desc_msg(desc);
	/* What sbatch sends for a plain job (slurm_init_job_desc_msg leaves 0). */
	desc->het_job_offset = NO_VAL;
	return desc;
}

static void free_desc(job_desc_msg_t *desc)
{
	uint32_t i;

	if (!desc)
		return;
	xfree(desc->partition);
	xfree(desc->qos);
	xfree(desc->account);
	xfree(desc->name);
	xfree(desc->tres_per_job);
	xfree(desc->tres_per_node);
	xfree(desc->tres_per_socket);
	xfree(desc->tres_per_task);
	xfree(desc->std_out);
	xfree(desc->std_err);
	xfree(desc->std_in);
	if (desc->spank_job_env) {
		for (i = 0; i < desc->spank_job_env_size; i++)
			xfree(desc->spank_job_env[i]);
		xfree(desc->spank_job_env);
	}
	xfree(desc);
}

/* Replaces a string field with a Slurm-allocated copy (NULL stays NULL). */
static void set(char **field, const char *value)
{
	xfree(*field);
	*field = value ? slurm_xstrdup(value) : NULL;
}

/* A Slurm-allocated string of `len` bytes: `unit` repeated, cut to fit. */
static char *repeated(const char *unit, size_t len)
{
	char *text = xmalloc(len + 1);
	size_t unit_len = strlen(unit), i;

	for (i = 0; i < len; i++)
		text[i] = unit[i % unit_len];
	text[len] = '\0';
	return text;
}

static void set_big(char **field, const char *unit)
{
	xfree(*field);
	*field = repeated(unit, BIG);
}

/* ------------------------------------------------------------ checks */

static void record(bool ok, const char *name, const char *detail)
{
	pthread_mutex_lock(&count_lock);
	checks++;
	if (!ok)
		failures++;
	pthread_mutex_unlock(&count_lock);
	if (!ok || detail)
		printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", name,
		       detail ? ": " : "", detail ? detail : "");
}

/* A message the user can act on: it names the job or component, or is
 * hetpolicy's own notice. */
/* A message that names the job or component and stays readable: user
 * values in it are cut (src/shown.rs), so 100 KB fields give short lines. */
static bool clear_message(const char *msg)
{
	return msg && strlen(msg) < 1024 &&
	       (!strncmp(msg, "job", 3) || !strncmp(msg, "hetjob component", 16) ||
		!strncmp(msg, "hetpolicy:", 10));
}

/* An accepted component's message: none, or its notices (what the policy
 * changed, warnings of rules in warn mode), one per line. */
static bool notice_or_none(const char *msg)
{
	return !msg || (strlen(msg) < 4096 &&
			(!strncmp(msg, "job", 3) || !strncmp(msg, "hetjob component", 16) ||
			 !strncmp(msg, "warning:", 8)));
}

/* The verdict's message: a clear refusal when rejected, at most notices
 * when accepted. */
static bool message_fits(int rc, const char *err)
{
	return rc == SLURM_SUCCESS ? notice_or_none(err) : clear_message(err);
}

static bool known_code(int rc)
{
	switch (rc) {
	case SLURM_SUCCESS:
	case ESLURM_INVALID_PARTITION_NAME:
	case ESLURM_INVALID_GRES:
	case ESLURM_INVALID_QOS:
	case ESLURM_ACCOUNTING_POLICY:
	case ESLURM_INVALID_TIME_LIMIT:
	case ESLURM_NOT_SUPPORTED:
	case ESLURM_ACCESS_DENIED:
		return true;
	default:
		return false;
	}
}

/* Any verdict: a known code, a clear message when rejected, at most
 * notices when accepted. Returns the code. `quiet` prints only failures. */
static int submit_sensible(const char *name, job_desc_msg_t *desc, bool quiet)
{
	char *err = NULL, detail[320];
	int rc = job_submit(desc, 1000, &err);
	bool ok = known_code(rc) && message_fits(rc, err);

	snprintf(detail, sizeof(detail), "rc=%d (%s) err=%.200s", rc, slurm_strerror(rc),
		 err ? err : "(none)");
	record(ok, name, (ok && quiet) ? NULL : detail);
	xfree(err);
	return rc;
}

/* A verdict with an exact code; when `needle` is given, err_msg contains it. */
static void submit_expect(const char *name, job_desc_msg_t *desc, int want_rc,
			  const char *needle)
{
	char *err = NULL, detail[400];
	int rc = job_submit(desc, 1000, &err);
	bool ok = rc == want_rc && message_fits(rc, err) &&
		  (!needle || (err && strstr(err, needle)));

	snprintf(detail, sizeof(detail), "rc=%d want %d err=%.250s", rc, want_rc,
		 err ? err : "(none)");
	record(ok, name, ok ? NULL : detail);
	xfree(err);
}

static void expect_str(const char *name, const char *got, const char *want)
{
	char detail[200];
	bool ok = (!got && !want) || (got && want && !strcmp(got, want));

	snprintf(detail, sizeof(detail), "got %s, want %s", got ? got : "NULL",
		 want ? want : "NULL");
	record(ok, name, ok ? NULL : detail);
}

static void expect_u32(const char *name, uint32_t got, uint32_t want)
{
	char detail[100];

	snprintf(detail, sizeof(detail), "got %" PRIu32 ", want %" PRIu32, got, want);
	record(got == want, name, got == want ? NULL : detail);
}

static int modify(job_desc_msg_t *desc, char **err)
{
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(23, 2, 0)
	return job_modify(desc, NULL, 1000, err);
#else
	*err = NULL;
	return job_modify(desc, NULL, 1000);
#endif
}

static void modify_expect(const char *name, job_desc_msg_t *desc, int want_rc)
{
	char *err = NULL, detail[300];
	int rc = modify(desc, &err);

	snprintf(detail, sizeof(detail), "rc=%d want %d err=%.200s", rc, want_rc,
		 err ? err : "(none)");
	record(rc == want_rc, name, rc == want_rc ? NULL : detail);
	xfree(err);
}

/* ------------------------------------------------------------ cases */

/* One plain job on `partition` with `gres` per node, judged and freed. */
static void plain(const char *name, const char *partition, const char *gres, int want_rc,
		  const char *needle)
{
	job_desc_msg_t *desc = new_desc();

	set(&desc->partition, partition);
	set(&desc->tres_per_node, gres);
	submit_expect(name, desc, want_rc, needle);
	free_desc(desc);
}

static void null_pointers(void)
{
	job_desc_msg_t *desc;
	char *err = NULL;
	int rc;

	/* A NULL job_desc, with and without err_msg. */
	rc = job_submit(NULL, 1000, &err);
	record(rc == ESLURM_ACCESS_DENIED && err && strstr(err, "no job description"),
	       "NULL job_desc is refused", NULL);
	xfree(err);
	rc = job_submit(NULL, 1000, NULL);
	record(rc == ESLURM_ACCESS_DENIED, "NULL job_desc and NULL err_msg", NULL);
	modify_expect("job_modify with a NULL job_desc", NULL, ESLURM_ACCESS_DENIED);

	/* A rejection with nowhere to put the message. */
	desc = new_desc();
	set(&desc->partition, "cpu");
	set(&desc->tres_per_node, "gres:gpu:1");
	rc = job_submit(desc, 1000, NULL);
	record(rc == ESLURM_INVALID_PARTITION_NAME, "rejection with a NULL err_msg", NULL);
	free_desc(desc);

	/* Every string NULL: the defaults of partition cpu apply. */
	desc = new_desc();
	submit_expect("all strings NULL: accepted", desc, SLURM_SUCCESS, NULL);
	expect_str("  default QOS set", desc->qos, "normal");
	expect_u32("  QOS max_time set", desc->time_limit, 1440);
	expect_str("  partition left to Slurm", desc->partition, NULL);
	free_desc(desc);

	/* Another plugin already wrote err_msg: ours is appended. */
	desc = new_desc();
	set(&desc->partition, "cpu");
	set(&desc->tres_per_node, "gres:gpu:1");
	err = slurm_xstrdup("earlier plugin: note");
	rc = job_submit(desc, 1000, &err);
	record(rc == ESLURM_INVALID_PARTITION_NAME && err &&
		       !strncmp(err, "earlier plugin: note\njob requests gpu:1", 39),
	       "an existing err_msg is appended to", NULL);
	xfree(err);
	free_desc(desc);
}

static void routing_and_defaults(void)
{
	job_desc_msg_t *desc = new_desc();

	set(&desc->tres_per_node, "gres:gpu:1");
	submit_expect("GPU job without partition is routed", desc, SLURM_SUCCESS, NULL);
	expect_str("  routed to gpu", desc->partition, "gpu");
	expect_str("  gpu's default QOS", desc->qos, "gpu");
	expect_u32("  gpu QOS max_time", desc->time_limit, 2880);
	/* The same job_desc again: nothing is set twice, nothing leaks. */
	submit_expect("  judged again unchanged", desc, SLURM_SUCCESS, NULL);
	expect_str("  still gpu", desc->partition, "gpu");
	free_desc(desc);

	plain("GPU on cpu is refused", "cpu", "gres:gpu:1", ESLURM_INVALID_PARTITION_NAME,
	      "policy: accelerators.gpu");
	plain("gpu partition without a GPU is refused", "gpu", NULL, ESLURM_INVALID_GRES,
	      "reserved_for");
}

/* Each numeric field the plugin reads, at each sentinel, one at a time,
 * on partition cpu: any verdict must be sensible. */
static void sentinels(void)
{
	static const uint32_t v32[] = {0, 1, NO_VAL, INFINITE, NO_VAL - 1, 0x7fffffff};
	static const uint16_t v16[] = {0, 1, NO_VAL16, INFINITE16, 0xfffd, 0x7fff};
	static const uint64_t v64[] = {0,
				       1,
				       NO_VAL64,
				       INFINITE64,
				       MEM_PER_CPU,
				       MEM_PER_CPU | 1,
				       MEM_PER_CPU | NO_VAL64,
				       (uint64_t)1 << 62,
				       INFINITE64 - 2};
	static const char *f32[] = {"min_nodes", "max_nodes", "num_tasks",
				    "min_cpus",  "time_limit", "het_job_offset"};
	char name[120];
	size_t f, v;

	for (f = 0; f < sizeof(f32) / sizeof(*f32); f++) {
		for (v = 0; v < sizeof(v32) / sizeof(*v32); v++) {
			job_desc_msg_t *desc = new_desc();
			uint32_t *field = f == 0   ? &desc->min_nodes
					  : f == 1 ? &desc->max_nodes
					  : f == 2 ? &desc->num_tasks
					  : f == 3 ? &desc->min_cpus
					  : f == 4 ? &desc->time_limit
						   : &desc->het_job_offset;
			set(&desc->partition, "cpu");
			set(&desc->tres_per_task, "gres/gpu:0");
			*field = v32[v];
			snprintf(name, sizeof(name), "%s=0x%" PRIx32, f32[f], v32[v]);
			submit_sensible(name, desc, true);
			free_desc(desc);
		}
	}
	for (v = 0; v < sizeof(v16) / sizeof(*v16); v++) {
		job_desc_msg_t *desc = new_desc();
		set(&desc->partition, "cpu");
		desc->cpus_per_task = v16[v];
		desc->num_tasks = 4;
		snprintf(name, sizeof(name), "cpus_per_task=0x%" PRIx16, v16[v]);
		submit_sensible(name, desc, true);
		free_desc(desc);
	}
	for (v = 0; v < sizeof(v64) / sizeof(*v64); v++) {
		job_desc_msg_t *desc = new_desc();
		set(&desc->partition, "cpu");
		desc->pn_min_memory = v64[v];
		snprintf(name, sizeof(name), "pn_min_memory=0x%" PRIx64, v64[v]);
		submit_sensible(name, desc, true);
		free_desc(desc);

		desc = new_desc();
		desc->bitflags = v64[v];
		set(&desc->partition, "cpu");
		snprintf(name, sizeof(name), "bitflags=0x%" PRIx64, v64[v]);
		submit_sensible(name, desc, true);
		free_desc(desc);
	}

	/* Exact verdicts where the policy says what must happen. */
	{
		job_desc_msg_t *desc = new_desc();
		set(&desc->partition, "cpu");
		desc->time_limit = INFINITE;
		submit_expect("time_limit=INFINITE exceeds normal's 1 day", desc,
			      ESLURM_INVALID_TIME_LIMIT, "qos.normal.max_time");
		free_desc(desc);

		desc = new_desc();
		set(&desc->partition, "cpu");
		desc->min_nodes = 0x7fffffff;
		submit_expect("min_nodes=2^31-1 exceeds max_nodes", desc,
			      ESLURM_ACCOUNTING_POLICY, "max_nodes");
		free_desc(desc);

		desc = new_desc();
		set(&desc->partition, "cpu");
		desc->pn_min_memory = (uint64_t)1 << 62;
		submit_expect("pn_min_memory=2^62 MB exceeds max_memory", desc,
			      ESLURM_ACCOUNTING_POLICY, "max_memory");
		free_desc(desc);

		desc = new_desc();
		set(&desc->partition, "cpu");
		desc->pn_min_memory = MEM_PER_CPU | ((uint64_t)1 << 40);
		desc->num_tasks = INFINITE;
		desc->cpus_per_task = NO_VAL16;
		submit_expect("mem-per-cpu 2^40 MB exceeds max_memory", desc,
			      ESLURM_ACCOUNTING_POLICY, "max_memory");
		free_desc(desc);

		desc = new_desc();
		set(&desc->partition, "cpu");
		desc->het_job_offset = INFINITE;
		submit_expect("het_job_offset=INFINITE exceeds max_components", desc,
			      ESLURM_ACCOUNTING_POLICY, "max_components");
		free_desc(desc);

		desc = new_desc();
		set(&desc->partition, "cpu");
		desc->het_job_offset = 0;
		desc->bitflags = CRON_JOB;
		submit_expect("scrontab job (offset 0, CRON_JOB) is a plain job", desc,
			      SLURM_SUCCESS, NULL);
		free_desc(desc);

		desc = new_desc();
		set(&desc->partition, "cpu");
		set(&desc->tres_per_node, "gres:gpu:1");
		desc->het_job_offset = 0;
		desc->fed_siblings_viable = 2;
		submit_expect("federation sibling (offset 0, siblings set) is a plain job", desc,
			      ESLURM_INVALID_PARTITION_NAME, "job requests gpu:1 on partition cpu");
		free_desc(desc);
	}

	/* Every field at once, at its largest. */
	{
		job_desc_msg_t *desc = new_desc();
		set(&desc->partition, "gpu");
		set(&desc->tres_per_job, "gres:gpu:1");
		desc->min_nodes = desc->max_nodes = desc->num_tasks = desc->min_cpus = INFINITE;
		desc->cpus_per_task = INFINITE16;
		desc->pn_min_memory = INFINITE64;
		desc->time_limit = INFINITE;
		desc->bitflags = INFINITE64;
		submit_sensible("every numeric field INFINITE", desc, false);
		free_desc(desc);

		desc = new_desc();
		set(&desc->partition, "gpu");
		set(&desc->tres_per_job, "gres:gpu:1");
		desc->min_nodes = desc->max_nodes = desc->num_tasks = desc->min_cpus = NO_VAL;
		desc->cpus_per_task = NO_VAL16;
		desc->pn_min_memory = NO_VAL64;
		desc->time_limit = NO_VAL;
		submit_expect("every numeric field NO_VAL: accepted", desc, SLURM_SUCCESS,
			      NULL);
		expect_u32("  gpu QOS max_time set", desc->time_limit, 2880);
		free_desc(desc);
	}
}

static void non_utf8(void)
{
	job_desc_msg_t *desc;

	plain("non-UTF-8 partition is left to Slurm", "cp\xffu", NULL, SLURM_SUCCESS, NULL);
	plain("non-UTF-8 GRES name is unreadable", "gpu", "gres:gp\xff\xfeu:1",
	      ESLURM_INVALID_GRES, "cannot read the GRES request");
	plain("non-UTF-8 GRES type is unreadable", "gpu", "gres:gpu:\xc3\x28:1",
	      ESLURM_INVALID_GRES, NULL);

	desc = new_desc();
	set(&desc->partition, "cpu");
	set(&desc->qos, "nor\xffmal");
	submit_expect("non-UTF-8 QOS is not allowed", desc, ESLURM_INVALID_QOS, NULL);
	free_desc(desc);

	desc = new_desc();
	set(&desc->partition, "cpu,\x80\x81");
	set(&desc->std_out, "/tmp/\xff\xfe");
	set(&desc->std_err, "\xed\xa0\x80");
	set(&desc->std_in, "\xf4\x90\x80\x80");
	submit_sensible("non-UTF-8 partition list and I/O paths", desc, false);
	free_desc(desc);

	/* spank_job_env: a NULL entry, bytes, a huge entry. */
	desc = new_desc();
	set(&desc->partition, "cpu");
	desc->spank_job_env_size = 4;
	desc->spank_job_env = xmalloc(sizeof(char *) * 4);
	desc->spank_job_env[0] = NULL;
	desc->spank_job_env[1] = slurm_xstrdup("_SLURM_SPANK_OPTION_hetpolicy_qpu=\xff");
	desc->spank_job_env[2] = repeated("HETPOLICY_X=", BIG);
	desc->spank_job_env[3] = slurm_xstrdup("no equals sign");
	submit_sensible("odd spank_job_env entries", desc, false);
	free_desc(desc);

	/* A site option's value that is not UTF-8, or that carries a newline,
	 * is refused: never skipped (the prolog would record it). */
	{
		const char *values[] = {"HETPOLICY_QPU=ibm_\xff", "HETPOLICY_QPU=ibm_fez\nX=1"};
		int i;
		for (i = 0; i < 2; i++) {
			desc = new_desc();
			set(&desc->partition, "quantum");
			set(&desc->tres_per_node, "gres:qpu:1");
			desc->spank_job_env_size = 1;
			desc->spank_job_env = xmalloc(sizeof(char *));
			desc->spank_job_env[0] = slurm_xstrdup(values[i]);
			submit_expect(i ? "a newline in a site option's value is refused"
					: "a site option's value that is not UTF-8 is refused",
				      desc, ESLURM_ACCESS_DENIED, "use printable text only");
			free_desc(desc);
		}
	}
}

static void big_strings(void)
{
	job_desc_msg_t *desc;

	desc = new_desc();
	set_big(&desc->partition, "a");
	submit_expect("100 KB partition is left to Slurm", desc, SLURM_SUCCESS, NULL);
	free_desc(desc);

	desc = new_desc();
	set_big(&desc->partition, "cpu,");
	submit_expect("100 KB partition list of cpu", desc, ESLURM_INVALID_PARTITION_NAME,
		      "hetpolicy reads at most 1024");
	free_desc(desc);

	/* Both lists long at once: bounded before any rule compares them. */
	desc = new_desc();
	set_big(&desc->partition, "gpu,");
	set_big(&desc->tres_per_node, "gres:gpu:1,");
	submit_expect("100 KB partition list and 100 KB GRES list", desc, ESLURM_INVALID_GRES,
		      "hetpolicy reads at most 64");
	free_desc(desc);

	desc = new_desc();
	set_big(&desc->partition, "quantum,gpu,");
	set(&desc->tres_per_node, "gres:gpu:1,gres:qpu:1");
	submit_expect("100 KB partition list with two GRES", desc, ESLURM_INVALID_PARTITION_NAME,
		      "hetpolicy reads at most 1024");
	free_desc(desc);

	desc = new_desc();
	set(&desc->partition, "cpu");
	set_big(&desc->qos, "q");
	submit_expect("100 KB QOS is not allowed", desc, ESLURM_INVALID_QOS, NULL);
	free_desc(desc);

	desc = new_desc();
	set(&desc->partition, "gpu");
	set_big(&desc->tres_per_node, "gres:gpu:1,");
	submit_expect("100 KB of gres:gpu:1 is refused", desc, ESLURM_INVALID_GRES,
		      "hetpolicy reads at most 64");
	free_desc(desc);

	desc = new_desc();
	set(&desc->partition, "cpu");
	set_big(&desc->tres_per_task, "x");
	submit_expect("100 KB of non-GRES TRES is ignored", desc, SLURM_SUCCESS, NULL);
	free_desc(desc);

	desc = new_desc();
	set(&desc->partition, "gpu");
	set_big(&desc->tres_per_socket, "gres:");
	submit_expect("100 KB of empty GRES entries", desc, ESLURM_INVALID_GRES, NULL);
	free_desc(desc);

	desc = new_desc();
	set(&desc->partition, "cpu");
	set_big(&desc->std_out, "/out");
	set_big(&desc->std_err, "/err");
	set_big(&desc->std_in, "/in");
	set_big(&desc->account, "acct");
	set_big(&desc->name, "n");
	submit_expect("100 KB I/O paths, account and name", desc, SLURM_SUCCESS, NULL);
	free_desc(desc);
}

static void absurd_gres(void)
{
	static const struct {
		const char *gres;
		const char *partition;
		int rc;
	} cases[] = {
		{"gres:gpu:99999999999999999999", "gpu", ESLURM_INVALID_GRES},
		/* strtoull saturates at ULLONG_MAX, which Slurm then reads as a
		 * type: not judged. */
		{"gres:gpu:18446744073709551615", "gpu", ESLURM_INVALID_GRES},
		{"gres:gpu:18446744073709551614", "gpu", ESLURM_ACCOUNTING_POLICY},
		{"gres:gpu:1kb", "gpu", ESLURM_ACCOUNTING_POLICY},
		{"gres:gpu:kb", "gpu", ESLURM_INVALID_GRES},
		{"gres:gpu:a100:17179869184g", "gpu", ESLURM_INVALID_GRES},
		{"gres:gpu:16777215g", "gpu", ESLURM_ACCOUNTING_POLICY},
		{"gres:gpu:-1", "gpu", ESLURM_INVALID_GRES},
		{"gres:::::", "gpu", ESLURM_INVALID_GRES},
		{"gres/", "cpu", ESLURM_INVALID_GRES},
		{"gres:gpu:a100:b:c:d", "gpu", ESLURM_INVALID_GRES},
		{",,,;;;,", "cpu", SLURM_SUCCESS},
		{"gres:gpu:0", "cpu", SLURM_SUCCESS},
		{"gres/gpu=1,gres/gpu=1k", "gpu", ESLURM_ACCOUNTING_POLICY},
		{"cpu=4,mem=1G,license/x=1,gres/gpu:a100=1", "gpu", SLURM_SUCCESS},
		{"gres:gpu:1\ngres:gpu:1", "gpu", ESLURM_INVALID_GRES},
		{"gres:gpu:1 , gres:gpu:1", "gpu", SLURM_SUCCESS},
		{"gres:gpu:1\t", "gpu", SLURM_SUCCESS},
		{"gres:%s%n%x:1", "gpu", ESLURM_INVALID_GRES},
		{"gres:fpga:1", "cpu", SLURM_SUCCESS},
		{"gres:qpu:1,gres:gpu:1", "gpu", SLURM_SUCCESS},
		{"", "cpu", SLURM_SUCCESS},
	};
	char name[200];
	size_t i;

	/* A count whose multiplier overflows is refused, not read as a type. */
	plain("GRES \"gres:gpu:17179869184g\" on gpu", "gpu", "gres:gpu:17179869184g",
	      ESLURM_INVALID_GRES, "17179869184g");
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		snprintf(name, sizeof(name), "GRES \"%.60s\" on %s", cases[i].gres,
			 cases[i].partition);
		plain(name, cases[i].partition, cases[i].gres, cases[i].rc, NULL);
	}

	/* Counts times node and task counts at their largest. */
	{
		job_desc_msg_t *desc = new_desc();
		set(&desc->partition, "gpu");
		set(&desc->tres_per_node, "gres:gpu:1");
		desc->min_nodes = 0xfffffffd;
		submit_expect("gpu:1 per node on 2^32-3 nodes", desc, ESLURM_ACCOUNTING_POLICY,
			      "max_gres");
		free_desc(desc);

		desc = new_desc();
		set(&desc->partition, "gpu");
		set(&desc->tres_per_task, "gres/gpu:18446744073709551614");
		desc->num_tasks = 0xfffffffd;
		submit_expect("u64::MAX-1 gpus per task on 2^32-3 tasks", desc,
			      ESLURM_ACCOUNTING_POLICY, "max_gres");
		free_desc(desc);
	}
}

/* Hetjob components arrive in order on one thread. */
static void hetjob(uint32_t offset, const char *partition, const char *gres,
		   const char *std_out, const char *name, int want_rc, const char *needle)
{
	job_desc_msg_t *desc = new_desc();

	desc->het_job_offset = offset;
	set(&desc->partition, partition);
	set(&desc->tres_per_node, gres);
	set(&desc->std_out, std_out);
	submit_expect(name, desc, want_rc, needle);
	free_desc(desc);
}

static void hetjobs(void)
{
	hetjob(0, "cpu", NULL, "/o", "hetjob cpu+gpu: component 0", SLURM_SUCCESS, NULL);
	hetjob(1, "gpu", "gres:gpu:1", "/o", "hetjob cpu+gpu: component 1", SLURM_SUCCESS,
	       NULL);

	hetjob(0, "cpu", NULL, "/o", "different output: component 0", SLURM_SUCCESS, NULL);
	hetjob(1, "gpu", "gres:gpu:1", "/other", "different output: component 1",
	       ESLURM_NOT_SUPPORTED, "first component only");

	hetjob(0, "gpu", "gres:gpu:2", NULL, "3 GPUs in total: component 0", SLURM_SUCCESS,
	       NULL);
	hetjob(1, "gpu", "gres:gpu:1", NULL, "3 GPUs in total: component 1",
	       ESLURM_ACCOUNTING_POLICY, "max_total_gres");

	hetjob(0, "cpu", NULL, NULL, "5 components: 0", SLURM_SUCCESS, NULL);
	hetjob(1, "cpu", NULL, NULL, "5 components: 1", SLURM_SUCCESS, NULL);
	hetjob(2, "cpu", NULL, NULL, "5 components: 2", SLURM_SUCCESS, NULL);
	hetjob(3, "cpu", NULL, NULL, "5 components: 3", SLURM_SUCCESS, NULL);
	hetjob(4, "cpu", NULL, NULL, "5 components: 4", ESLURM_ACCOUNTING_POLICY,
	       "max_components");

	/* Out of order (a component without its predecessors). */
	hetjob(2, "gpu", "gres:gpu:1", "/x", "component 2 without 0 and 1", SLURM_SUCCESS,
	       NULL);
	hetjob(1, "gpu", "gres:gpu:1", "/y", "component 1 after 2", SLURM_SUCCESS, NULL);
	hetjob(0, "cpu", NULL, NULL, "a new submission starts clean", SLURM_SUCCESS, NULL);
}

static void modifies(void)
{
	job_desc_msg_t *desc = new_desc();

	modify_expect("job_modify of an empty update", desc, SLURM_SUCCESS);
	set(&desc->partition, "cpu");
	set(&desc->tres_per_node, "gres:gpu:1");
	modify_expect("job_modify moving a GPU job to cpu", desc, ESLURM_INVALID_PARTITION_NAME);
	free_desc(desc);

	desc = new_desc();
	set(&desc->qos, "normal");
	desc->time_limit = INFINITE;
	modify_expect("job_modify qos=normal timelimit=UNLIMITED", desc,
		      ESLURM_INVALID_TIME_LIMIT);
	free_desc(desc);

	/* Every field hostile. */
	desc = new_desc();
	set_big(&desc->partition, "gpu,");
	set_big(&desc->qos, "\xff");
	set(&desc->tres_per_job, "gres:gpu:9,gres:\xff:1");
	desc->min_nodes = desc->num_tasks = desc->time_limit = INFINITE;
	desc->pn_min_memory = INFINITE64;
	{
		char *err = NULL;
		int rc = modify(desc, &err);
		record(known_code(rc), "job_modify with every field hostile", NULL);
		xfree(err);
	}
	xfree(desc->partition);
	desc->partition = slurm_xstrdup("gpu");
	set_big(&desc->tres_per_job, "gres:gpu:9,");
	modify_expect("job_modify with 100 KB of GRES", desc, ESLURM_INVALID_GRES);
	free_desc(desc);
}

/* ------------------------------------------------------------ threads */

#define THREADS 4
#define ROUNDS 150

static void *submitter(void *arg)
{
	int round;

	(void)arg;
	for (round = 0; round < ROUNDS; round++) {
		job_desc_msg_t *desc = new_desc();
		char *err = NULL;
		int rc = job_submit(desc, 1000, &err);
		bool ok = rc == SLURM_SUCCESS && desc->qos && !strcmp(desc->qos, "normal");
		record(ok, "threads: plain job", ok ? NULL : "not accepted with QOS normal");
		xfree(err);
		free_desc(desc);

		desc = new_desc();
		desc->het_job_offset = 0;
		set(&desc->partition, "gpu");
		set(&desc->tres_per_node, "gres:gpu:1");
		rc = job_submit(desc, 1000, &err);
		record(rc == SLURM_SUCCESS, "threads: component 0", NULL);
		xfree(err);
		free_desc(desc);

		/* Component 1: one more GPU would make 2 (allowed); on cpu it
		 * is refused. Alternate the two. */
		desc = new_desc();
		desc->het_job_offset = 1;
		set(&desc->partition, (round & 1) ? "cpu" : "gpu");
		set(&desc->tres_per_node, "gres:gpu:1");
		rc = job_submit(desc, 1000, &err);
		ok = (round & 1) ? rc == ESLURM_INVALID_PARTITION_NAME && err &&
					   !strncmp(err, "hetjob component 1 requests gpu:1", 33)
				 : rc == SLURM_SUCCESS && notice_or_none(err);
		record(ok, "threads: component 1", ok ? NULL : (err ? err : "accepted"));
		xfree(err);
		free_desc(desc);
	}
	return NULL;
}

static void threads(void)
{
	pthread_t tid[THREADS];
	int i, before = failures;

	for (i = 0; i < THREADS; i++)
		pthread_create(&tid[i], NULL, submitter, NULL);
	for (i = 0; i < THREADS; i++)
		pthread_join(tid[i], NULL);
	printf("%s %d threads x %d rounds of 3 submissions\n",
	       failures == before ? "ok  " : "FAIL", THREADS, ROUNDS);
}

/* ------------------------------------------------------------ modes */

static void fault(void)
{
	job_desc_msg_t *desc;

	plain("a panic in the judging path is caught", "hetpolicy-test-panic", NULL,
	      ESLURM_ACCESS_DENIED, "hetpolicy: internal error while checking this job");
	plain("  a panic with a GPU request", "cpu,hetpolicy-test-panic", "gres:gpu:1",
	      ESLURM_ACCESS_DENIED, "please report this to your administrator");
	plain("  the next job is judged as usual", "cpu", "gres:gpu:1",
	      ESLURM_INVALID_PARTITION_NAME, "accelerators.gpu");

	hetjob(0, "cpu", NULL, NULL, "hetjob after a panic: component 0", SLURM_SUCCESS, NULL);
	hetjob(1, "hetpolicy-test-panic", NULL, NULL, "  component 1 panics",
	       ESLURM_ACCESS_DENIED, "internal error");
	hetjob(2, "gpu", "gres:gpu:2", NULL,
	       "  component 2 after the panic is not judged against component 0's state",
	       SLURM_SUCCESS, NULL);
	hetjob(0, "cpu", NULL, "/o", "hetjob whose component 0 panics later: 0", SLURM_SUCCESS,
	       NULL);
	hetjob(0, "hetpolicy-test-panic", NULL, "/o", "  a new component 0 panics",
	       ESLURM_ACCESS_DENIED, "internal error");
	hetjob(1, "cpu", NULL, "/other", "  component 1 does not continue the older state",
	       SLURM_SUCCESS, NULL);
	hetjob(0, "gpu", "gres:gpu:2", NULL, "  the next hetjob: component 0", SLURM_SUCCESS,
	       NULL);
	hetjob(1, "gpu", "gres:gpu:1", NULL, "  component 1 sees component 0's GPUs",
	       ESLURM_ACCOUNTING_POLICY, "max_total_gres");

	desc = new_desc();
	set(&desc->partition, "hetpolicy-test-panic");
	modify_expect("a panic in job_modify is caught", desc, ESLURM_ACCESS_DENIED);
	free_desc(desc);

	/* Many panics in a row: nothing leaks, nothing is poisoned. */
	{
		int i;
		for (i = 0; i < 50; i++)
			plain("repeated panic", "hetpolicy-test-panic", NULL,
			      ESLURM_ACCESS_DENIED, NULL);
		plain("  still judging after 50 panics", "gpu", NULL, ESLURM_INVALID_GRES,
		      "reserved_for");
	}
}

static void no_policy(bool open)
{
	job_desc_msg_t *desc = new_desc();

	set(&desc->partition, "cpu");
	set(&desc->tres_per_node, "gres:gpu:1");
	if (open) {
		submit_expect("no valid policy, on_error: accept", desc, SLURM_SUCCESS, NULL);
		expect_str("  accepted unchanged", desc->qos, NULL);
	} else {
		submit_expect("no valid policy: fail closed", desc, ESLURM_ACCESS_DENIED,
			      "job policy could not be loaded, so no job can be accepted now; "
			      "please contact your administrator");
	}
	free_desc(desc);
	desc = new_desc();
	set(&desc->qos, "normal");
	modify_expect("job_modify without a valid policy", desc,
		      open ? SLURM_SUCCESS : ESLURM_ACCESS_DENIED);
	free_desc(desc);
}

int main(int argc, char **argv)
{
	void *plugin;
	init_fn init, fini;
	const char *type;
	const uint32_t *version;
	const char *mode;

	if (argc != 3) {
		fprintf(stderr,
			"usage: %s <job_submit plugin .so> hostile|fault|closed|open|version\n",
			argv[0]);
		return 2;
	}
	mode = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* As slurmctld has its own plugins loaded (auth/munge, ...) before it
	 * loads job_submit plugins: one whose plugin_version tells the plugin
	 * the running release (mode "version"). */
	const char *slurm_plugin = getenv("HETPOLICY_HOST_SLURM_PLUGIN");
	void *loaded = NULL;
	if (slurm_plugin && !(loaded = dlopen(slurm_plugin, RTLD_NOW | RTLD_LOCAL))) {
		fprintf(stderr, "dlopen %s: %s\n", slurm_plugin, dlerror());
		return 2;
	}

	plugin = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!plugin) {
		fprintf(stderr, "dlopen %s: %s\n", argv[1], dlerror());
		return 2;
	}
	type = dlsym(plugin, "plugin_type");
	version = dlsym(plugin, "plugin_version");
	init = (init_fn)dlsym(plugin, "init");
	fini = (init_fn)dlsym(plugin, "fini");
	job_submit = (submit_fn)dlsym(plugin, "job_submit");
	job_modify = (modify_fn)dlsym(plugin, "job_modify");
	if (!type || !version || !init || !fini || !job_submit || !job_modify) {
		fprintf(stderr, "%s lacks a job_submit plugin symbol\n", argv[1]);
		return 2;
	}
	record(!strcmp(type, "job_submit/hetpolicy"), "plugin_type", type);
	record(*version == SLURM_VERSION_NUMBER, "plugin_version is this Slurm's", NULL);
	record(init() == SLURM_SUCCESS, "init", NULL);

	if (!strcmp(mode, "hostile")) {
		null_pointers();
		routing_and_defaults();
		sentinels();
		non_utf8();
		big_strings();
		absurd_gres();
		hetjobs();
		modifies();
		threads();
	} else if (!strcmp(mode, "fault")) {
		fault();
		threads();
	} else if (!strcmp(mode, "closed") || !strcmp(mode, "open")) {
		no_policy(!strcmp(mode, "open"));
	} else if (!strcmp(mode, "version")) {
		/* init's log says it all. */
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}

	record(fini() == SLURM_SUCCESS, "fini", NULL);
	dlclose(plugin);
	if (loaded)
		dlclose(loaded);
	printf("summary: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
