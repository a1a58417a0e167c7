/*
 * StintContract (stint-contract.h): the terms are read once from JSON and
 * kept as plain fields; only the week's hours change and notify.
 */
#include "desktop/stint-contract.h"

struct _StintContract {
    GObject parent_instance;
    char *id;
    char *title;
    char *client_name;
    char *state;
    char *currency;
    gint64 rate_cents;
    gint64 weekly_limit;
    gboolean memo_required;
    gboolean tag_required;
    gboolean screenshots_enabled;
    GStrv tags;
    gint64 week_seconds;
};

G_DEFINE_TYPE(StintContract, stint_contract, G_TYPE_OBJECT)

enum { PROP_0, PROP_WEEK_SECONDS, N_PROPS };
static GParamSpec *props[N_PROPS];

static void stint_contract_finalize(GObject *object)
{
    StintContract *self = STINT_CONTRACT(object);

    g_free(self->id);
    g_free(self->title);
    g_free(self->client_name);
    g_free(self->state);
    g_free(self->currency);
    g_strfreev(self->tags);
    G_OBJECT_CLASS(stint_contract_parent_class)->finalize(object);
}

static void stint_contract_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    StintContract *self = STINT_CONTRACT(object);

    switch (id) {
    case PROP_WEEK_SECONDS:
        g_value_set_int64(value, self->week_seconds);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void stint_contract_class_init(StintContractClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->finalize = stint_contract_finalize;
    object_class->get_property = stint_contract_get_property;
    props[PROP_WEEK_SECONDS] =
        g_param_spec_int64("week-seconds", NULL, NULL, -1, G_MAXINT64, -1,
                           G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, props);
}

static void stint_contract_init(StintContract *self)
{
    self->week_seconds = -1;
    self->weekly_limit = -1;
}

static char *dup_str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return g_strdup(s ? s : "");
}

void stint_contract_update(StintContract *self, json_t *c)
{
    json_t *limit = json_object_get(c, "weekly_limit_s");
    json_t *tags = json_object_get(c, "tags");
    GStrvBuilder *b = g_strv_builder_new();
    size_t i;

    g_free(self->title);
    g_free(self->client_name);
    g_free(self->state);
    g_free(self->currency);
    g_strfreev(self->tags);
    self->title = dup_str(c, "title");
    self->client_name = dup_str(json_object_get(c, "client"), "name");
    self->state = dup_str(c, "state");
    self->currency = dup_str(c, "currency");
    self->rate_cents = json_integer_value(json_object_get(c, "hourly_rate_cents"));
    self->weekly_limit = json_is_integer(limit) ? json_integer_value(limit) : -1;
    self->memo_required = !json_is_false(json_object_get(c, "memo_required"));
    self->tag_required = json_is_true(json_object_get(c, "tag_required"));
    self->screenshots_enabled = !json_is_false(json_object_get(c, "screenshots_enabled"));
    for (i = 0; i < json_array_size(tags); i++) {
        const char *t = json_string_value(json_array_get(tags, i));
        if (t)
            g_strv_builder_add(b, t);
    }
    self->tags = g_strv_builder_end(b);
    g_strv_builder_unref(b);
}

StintContract *stint_contract_new_from_json(json_t *c)
{
    const char *id = json_string_value(json_object_get(c, "id"));
    StintContract *self;

    if (!id || !*id)
        return NULL;
    self = g_object_new(STINT_TYPE_CONTRACT, NULL);
    self->id = g_strdup(id);
    stint_contract_update(self, c);
    return self;
}

const char *stint_contract_get_id(StintContract *self)
{
    return self->id;
}

const char *stint_contract_get_title(StintContract *self)
{
    return self->title;
}

const char *stint_contract_get_client_name(StintContract *self)
{
    return self->client_name;
}

const char *stint_contract_get_state(StintContract *self)
{
    return self->state;
}

gboolean stint_contract_get_memo_required(StintContract *self)
{
    return self->memo_required;
}

gboolean stint_contract_get_tag_required(StintContract *self)
{
    return self->tag_required;
}

gboolean stint_contract_get_screenshots_enabled(StintContract *self)
{
    return self->screenshots_enabled;
}

const char *const *stint_contract_get_tags(StintContract *self)
{
    return (const char *const *)self->tags;
}

gint64 stint_contract_get_weekly_limit(StintContract *self)
{
    return self->weekly_limit;
}

gint64 stint_contract_get_week_seconds(StintContract *self)
{
    return self->week_seconds;
}

void stint_contract_set_week_seconds(StintContract *self, gint64 seconds)
{
    if (self->week_seconds == seconds)
        return;
    self->week_seconds = seconds;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_WEEK_SECONDS]);
}

/* The symbol of the currencies people use most; the ISO code for the rest. */
static const char *currency_symbol(const char *code)
{
    static const struct {
        const char *code, *symbol;
    } table[] = {{"USD", "$"}, {"EUR", "€"}, {"GBP", "£"}, {"JPY", "¥"}, {"INR", "₹"}};

    for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
        if (g_strcmp0(code, table[i].code) == 0)
            return table[i].symbol;
    return NULL;
}

char *stint_contract_dup_subtitle(StintContract *self)
{
    const char *sym = currency_symbol(self->currency);
    g_autofree char *rate = NULL;

    if (sym)
        rate = g_strdup_printf("%s%" G_GINT64_FORMAT ".%02d/h", sym, self->rate_cents / 100,
                               (int)(self->rate_cents % 100));
    else
        rate = g_strdup_printf("%" G_GINT64_FORMAT ".%02d %s/h", self->rate_cents / 100,
                               (int)(self->rate_cents % 100), self->currency);
    if (!self->client_name[0])
        return g_steal_pointer(&rate);
    return g_strdup_printf("%s · %s", self->client_name, rate);
}

char *stint_format_duration(gint64 seconds)
{
    if (seconds < 0)
        seconds = 0;
    return g_strdup_printf("%" G_GINT64_FORMAT ":%02d", seconds / 3600, (int)(seconds % 3600 / 60));
}

char *stint_contract_dup_week_text(StintContract *self)
{
    g_autofree char *week = stint_format_duration(MAX(self->week_seconds, 0));
    g_autofree char *limit = NULL;

    if (self->week_seconds < 0)
        return g_strdup("");
    if (self->weekly_limit < 0)
        return g_strdup_printf("%s this week", week);
    limit = stint_format_duration(self->weekly_limit);
    return g_strdup_printf("%s of %s h", week, limit);
}
