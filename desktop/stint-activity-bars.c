/*
 * StintActivityBars (stint-activity-bars.h): a GtkWidget that draws in
 * snapshot() with rounded rectangles; the colours follow the theme's
 * foreground (dark or light) and a fixed green for activity.
 */
#include "desktop/stint-activity-bars.h"

#include <math.h>

#define BAR_GAP 6.0f
#define MIN_HEIGHT 60
#define EMPTY_LEVEL 0.06f
#define IDLE_LEVEL 0.12f
#define INPUT_FLOOR 0.3f

struct _StintActivityBars {
    GtkWidget parent_instance;
    float level[ST_SEG_BUCKETS];
    gboolean input[ST_SEG_BUCKETS];
    gboolean tracked[ST_SEG_BUCKETS];
    int current;
};

G_DEFINE_TYPE(StintActivityBars, stint_activity_bars, GTK_TYPE_WIDGET)

/*
 * Input events in a bucket → bar height: any input shows clearly, 120 events
 * a minute fill it. On Wayland a bucket has active seconds instead of counts:
 * the share of its seconds with input fills it the same way.
 */
static float level_of(const struct st_bucket *b)
{
    int n = b->keys + b->mouse;

    if (n <= 0 && b->active_s > 0 && b->tracked_s > 0)
        return MIN(1.0f, INPUT_FLOOR + (1.0f - INPUT_FLOOR) *
                                           sqrtf((float)b->active_s / (float)b->tracked_s));
    if (n <= 0)
        return b->tracked_s > 0 ? IDLE_LEVEL : EMPTY_LEVEL;
    return MIN(1.0f, INPUT_FLOOR + (1.0f - INPUT_FLOOR) * sqrtf((float)n / 120.0f));
}

void stint_activity_bars_set_buckets(StintActivityBars *self, const struct st_bucket *buckets,
                                     int current)
{
    gboolean changed = current != self->current;

    for (int i = 0; i < ST_SEG_BUCKETS; i++) {
        float level = buckets ? level_of(&buckets[i]) : EMPTY_LEVEL;
        gboolean input =
            buckets && (buckets[i].keys || buckets[i].mouse || buckets[i].active_s > 0);
        gboolean tracked = buckets && buckets[i].tracked_s > 0;
        changed = changed || level != self->level[i] || input != self->input[i] ||
                  tracked != self->tracked[i];
        self->level[i] = level;
        self->input[i] = input;
        self->tracked[i] = tracked;
    }
    self->current = current;
    /* Called once a second: draw only when a bar moved. */
    if (changed)
        gtk_widget_queue_draw(GTK_WIDGET(self));
}

json_t *stint_activity_bars_dup_state(StintActivityBars *self)
{
    json_t *bars = json_array();

    for (int i = 0; i < ST_SEG_BUCKETS; i++)
        json_array_append_new(bars,
                              json_pack("{s:f,s:b,s:b}", "level", (double)self->level[i], "input",
                                        self->input[i], "tracked", self->tracked[i]));
    return bars;
}

static void add_bar(GtkSnapshot *snapshot, float x, float y, float w, float h, const GdkRGBA *c)
{
    GskRoundedRect r;
    float radius = MIN(w / 2.0f, 5.0f);

    gsk_rounded_rect_init_from_rect(&r, &GRAPHENE_RECT_INIT(x, y, w, h), MIN(radius, h / 2.0f));
    gtk_snapshot_push_rounded_clip(snapshot, &r);
    gtk_snapshot_append_color(snapshot, c, &GRAPHENE_RECT_INIT(x, y, w, h));
    gtk_snapshot_pop(snapshot);
}

static void stint_activity_bars_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    StintActivityBars *self = STINT_ACTIVITY_BARS(widget);
    float width = (float)gtk_widget_get_width(widget);
    float height = (float)gtk_widget_get_height(widget);
    float bar_w = (width - BAR_GAP * (ST_SEG_BUCKETS - 1)) / ST_SEG_BUCKETS;
    GdkRGBA fg, track, idle, active = {0.18f, 0.76f, 0.49f, 1.0f}, outline;

    gtk_style_context_get_color(gtk_widget_get_style_context(widget), &fg);
    track = fg;
    track.alpha = 0.07f;
    idle = fg;
    idle.alpha = 0.28f;
    outline = active;
    outline.alpha = 0.55f;
    if (bar_w < 2.0f)
        return;
    for (int i = 0; i < ST_SEG_BUCKETS; i++) {
        float x = (float)i * (bar_w + BAR_GAP);
        float h = MAX(3.0f, roundf(self->level[i] * height));
        const GdkRGBA *c = self->input[i] ? &active : self->tracked[i] ? &idle : &track;

        add_bar(snapshot, x, 0, bar_w, height, &track);
        add_bar(snapshot, x, height - h, bar_w, h, c);
        if (i == self->current) {
            GskRoundedRect r;
            GdkRGBA colors[4] = {outline, outline, outline, outline};
            float widths[4] = {1.5f, 1.5f, 1.5f, 1.5f};
            gsk_rounded_rect_init_from_rect(&r, &GRAPHENE_RECT_INIT(x, 0, bar_w, height),
                                            MIN(bar_w / 2.0f, 5.0f));
            gtk_snapshot_append_border(snapshot, &r, widths, colors);
        }
    }
}

static void stint_activity_bars_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
                                        int *minimum, int *natural, int *minimum_baseline,
                                        int *natural_baseline)
{
    if (orientation == GTK_ORIENTATION_HORIZONTAL) {
        *minimum = 10 * 8 + 9 * (int)BAR_GAP;
        *natural = 10 * 24 + 9 * (int)BAR_GAP;
    } else {
        *minimum = *natural = MIN_HEIGHT;
    }
}

static void stint_activity_bars_class_init(StintActivityBarsClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    widget_class->snapshot = stint_activity_bars_snapshot;
    widget_class->measure = stint_activity_bars_measure;
    gtk_widget_class_set_css_name(widget_class, "activitybars");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void stint_activity_bars_init(StintActivityBars *self)
{
    for (int i = 0; i < ST_SEG_BUCKETS; i++)
        self->level[i] = EMPTY_LEVEL;
    self->current = -1;
}

GtkWidget *stint_activity_bars_new(void)
{
    return g_object_new(STINT_TYPE_ACTIVITY_BARS, NULL);
}
