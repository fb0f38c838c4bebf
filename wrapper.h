/*
 * The Slurm headers hetpolicy's bindings are generated from (build.rs runs
 * bindgen over this file). Only the public headers of libslurm-dev are used.
 */
#include <stdint.h>
#include <slurm/slurm_version.h>
#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>
#include <slurm/slurmdb.h>
#include <slurm/spank.h>

/*
 * Slurm's sentinels and flags with their C types. bindgen types plain macros
 * by value (NO_VAL64 would become an i32 of -2) and cannot expand
 * function-like ones (CRON_JOB); clang evaluates these initialisers exactly.
 * 64-bit values above INT64_MAX are given bit-inverted, because bindgen
 * cannot emit them as constants; the Rust side inverts them back.
 */
static const uint16_t HETPOLICY_NO_VAL16 = NO_VAL16;
static const uint32_t HETPOLICY_NO_VAL = NO_VAL;
static const uint64_t HETPOLICY_NO_VAL64_INVERTED = ~(uint64_t)NO_VAL64;
static const uint16_t HETPOLICY_INFINITE16 = INFINITE16;
static const uint32_t HETPOLICY_INFINITE = INFINITE;
static const uint64_t HETPOLICY_INFINITE64_INVERTED = ~(uint64_t)INFINITE64;
static const uint64_t HETPOLICY_MEM_PER_CPU_INVERTED = ~(uint64_t)MEM_PER_CPU;
static const uint64_t HETPOLICY_CRON_JOB = CRON_JOB;
static const uint32_t HETPOLICY_SLURM_VERSION_NUMBER = SLURM_VERSION_NUMBER;
static const uint32_t HETPOLICY_PROLOG_FLAG_ALLOC = PROLOG_FLAG_ALLOC;
static const uint32_t HETPOLICY_ESPANK_SUCCESS = ESPANK_SUCCESS;

/* --exclusive: whole nodes. JOB_SHARED_TOPO (--exclusive=topo, whole
 * nodes too) exists from 24.11; before, JOB_SHARED_NONE stands in for it. */
static const uint16_t HETPOLICY_JOB_SHARED_NONE = JOB_SHARED_NONE;
#ifdef JOB_SHARED_TOPO
static const uint16_t HETPOLICY_JOB_SHARED_TOPO = JOB_SHARED_TOPO;
#else
static const uint16_t HETPOLICY_JOB_SHARED_TOPO = JOB_SHARED_NONE;
#endif
