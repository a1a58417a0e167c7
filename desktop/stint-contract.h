/*
 * StintContract: one of the freelancer's contracts as the contract picker
 * shows it: the terms from GET /contracts and this week's hours from the
 * contract's diary. An item of a GListStore; "notify" tells the picker
 * when the week's hours change.
 */
#ifndef STINT_CONTRACT_H
#define STINT_CONTRACT_H

#include <glib-object.h>
#include <jansson.h>

G_BEGIN_DECLS

#define STINT_TYPE_CONTRACT (stint_contract_get_type())
G_DECLARE_FINAL_TYPE(StintContract, stint_contract, STINT, CONTRACT, GObject)

/* From a contract object of the API; NULL when it has no id. */
StintContract *stint_contract_new_from_json(json_t *contract);
/* Takes the new terms of the same contract (a refresh). */
void stint_contract_update(StintContract *self, json_t *contract);

const char *stint_contract_get_id(StintContract *self);
const char *stint_contract_get_title(StintContract *self);
const char *stint_contract_get_client_name(StintContract *self);
const char *stint_contract_get_state(StintContract *self);
gboolean stint_contract_get_memo_required(StintContract *self);
gboolean stint_contract_get_tag_required(StintContract *self);
gboolean stint_contract_get_screenshots_enabled(StintContract *self);
/* The tags the client defined; NULL-terminated, owned by the contract. */
const char *const *stint_contract_get_tags(StintContract *self);
/* -1: no weekly limit. */
gint64 stint_contract_get_weekly_limit(StintContract *self);

/* Seconds this week (UTC), -1 while unknown. Property "week-seconds". */
gint64 stint_contract_get_week_seconds(StintContract *self);
void stint_contract_set_week_seconds(StintContract *self, gint64 seconds);

/* "Acme Ltd · $45.00/h": the picker's second line. Newly allocated. */
char *stint_contract_dup_subtitle(StintContract *self);
/* "12:30 of 40:00 this week", or "12:30 this week" without a limit. Newly allocated. */
char *stint_contract_dup_week_text(StintContract *self);

/* "1:05" from seconds (hours:minutes), the way the whole app writes durations. */
char *stint_format_duration(gint64 seconds);

G_END_DECLS

#endif
