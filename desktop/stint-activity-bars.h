/*
 * StintActivityBars: the current segment's ten buckets as ten bars, the
 * way the Work Diary shows activity. A bucket with input is a filled bar
 * (taller with more input), a tracked bucket without input a low grey bar,
 * a bucket still ahead an empty slot; the open bucket is outlined.
 * Only counts reach this widget: never which key or where.
 */
#ifndef STINT_ACTIVITY_BARS_H
#define STINT_ACTIVITY_BARS_H

#include <gtk/gtk.h>
#include <jansson.h>

#include "lib/segment.h"

G_BEGIN_DECLS

#define STINT_TYPE_ACTIVITY_BARS (stint_activity_bars_get_type())
G_DECLARE_FINAL_TYPE(StintActivityBars, stint_activity_bars, STINT, ACTIVITY_BARS, GtkWidget)

GtkWidget *stint_activity_bars_new(void);
/*
 * buckets: ST_SEG_BUCKETS values, or NULL for none; current: the open bucket,
 * or -1; active_seconds: the segment measures active seconds (Wayland), so a
 * bar's height and tooltip come from active_s rather than the counts.
 */
void stint_activity_bars_set_buckets(StintActivityBars *self, const struct st_bucket *buckets,
                                     int current, gboolean active_seconds);
/* What is drawn: [{"level": 0..1, "input": bool, "tracked": bool}, ...] for tests. */
json_t *stint_activity_bars_dup_state(StintActivityBars *self);

G_END_DECLS

#endif
