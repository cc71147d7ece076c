/* st-figures.h: which figure of a snapshot each metric compares, and what
 * the system's figures alone say about every program's.
 *
 * Reading every process is most of what a sample costs. The system's own
 * counters, a few /proc files, bound what any one program can have done in
 * the same interval: no process used more CPU than all CPUs were busy, has
 * more resident than all anonymous and file-mapped pages, or was charged
 * more disk bytes than passed the block layer or dirtied the page cache.
 * While those bounds leave every threshold out of reach, the processes need
 * not be read for alerts to keep their promise.
 *
 * Pure: no I/O, no clock.
 */
#pragma once

#include "st-engine-config.h"
#include "st-snapshot.h"

G_BEGIN_DECLS

/* A metric alerts at all under this config (enabled, with a threshold). */
gboolean st_metric_enabled(const StEngineConfig *c, StMetric metric);

/* The figure a metric compares; NAN when unavailable. System metrics take
 * the snapshot's system figures, process metrics one process's (CPU %, RSS %
 * of RAM, syscalls/s, bytes/s), application metrics one group's. */
gdouble st_figure_system(StMetric metric, const StSnapshot *snap);
gdouble st_figure_process(StMetric metric, const StSnapshot *snap, const StProcess *proc);
gdouble st_figure_app(StMetric metric, const StSnapshot *snap, const StAppGroup *app);

/* Whether the processes must be read for this sample, judged from its
 * system figures (st_collector_sample_system()): TRUE when a bound leaves a
 * program within reach of its threshold, when a system figure is near its
 * own (its alert names the top programs), or when a figure needed for the
 * judgement is unknown. why: a static text for the log. Application memory
 * (a sum of RSS, shared pages counted in each process) has no such bound:
 * the caller reads the processes at least every few samples for it. */
gboolean st_figures_need_processes(const StEngineConfig *c, const StSnapshot *snap,
                                   const char **why);

G_END_DECLS
