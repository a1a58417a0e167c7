/*
 * The demo data `make run` starts with: a client, a freelancer and an
 * active contract between them, with a week of diary and a conversation in
 * the contract's room, created only on an empty store.
 */
#include "server/demo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "lib/uuid.h"
#include "lib/week.h"
#include "lib/xalloc.h"
#include "server/auth.h"
#include "server/blob.h"
#include "server/image.h"
#include "server/messages.h"
#include "server/rooms.h"
#include "server/segments.h"
#include "server/contracts.h"
#include "server/server.h"
#include "server/store.h"
#include "server/users.h"

#define DEMO_CLIENT_EMAIL "client@demo.stint"
#define DEMO_CLIENT_PASSWORD "demo-client-pw"
#define DEMO_FREELANCER_EMAIL "freelancer@demo.stint"
#define DEMO_FREELANCER_PASSWORD "demo-freelancer-pw"

#define DEMO_SHOTS 12

struct demo_shot {
    char shot[BLOB_ID_LEN + 1];
    char thumb[BLOB_ID_LEN + 1];
    size_t bytes;
};

struct demo {
    struct server *srv;
    struct demo_shot shots[DEMO_SHOTS];
    char client_hash[AUTH_HASH_LEN];
    char freelancer_hash[AUTH_HASH_LEN];
    struct contract c;
    bool seeded;
};

/*
 * A made-up desktop: a background, an editor-like window with lines of
 * "text", and a browser-like window, placed differently for each n.
 */
static unsigned char *fake_desktop(int n, int w, int h)
{
    unsigned char *rgb = xmalloc((size_t)w * h * 3);

    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            unsigned char *p = rgb + ((size_t)y * w + x) * 3;
            int ex = 40 + n * 23 % 200, ey = 40 + n * 17 % 120, ew = w / 2, eh = h * 2 / 3;
            int bx = w / 2 - n * 31 % 150, by = 90 + n * 13 % 100, bw = w / 2 - 40, bh = h / 2;
            p[0] = (unsigned char)(30 + y * 40 / h);
            p[1] = (unsigned char)(60 + x * 50 / w);
            p[2] = (unsigned char)(110 + n * 9 % 60);
            if (x >= bx && x < bx + bw && y >= by && y < by + bh) {
                bool bar = y < by + 28, block = (x - bx) % 180 < 150 && (y - by) % 120 < 90;
                p[0] = bar ? 225 : block ? (unsigned char)(180 + n * 7 % 60) : 245;
                p[1] = bar ? 225 : block ? (unsigned char)(120 + n * 11 % 90) : 245;
                p[2] = bar ? 230 : block ? (unsigned char)(90 + n * 5 % 120) : 245;
            }
            if (x >= ex && x < ex + ew && y >= ey && y < ey + eh) {
                int line = (y - ey - 30) / 18, col = (x - ex - 20);
                bool text = y > ey + 30 && (y - ey - 30) % 18 < 9 && col > 0 &&
                            col < (int)((line * 97 + n * 31) % (ew - 60)) + 40;
                p[0] = y < ey + 24 ? 60 : text ? 150 : 40;
                p[1] = y < ey + 24 ? 62 : text ? 200 : 42;
                p[2] = y < ey + 24 ? 70 : text ? 160 : 54;
            }
        }
    }
    return rgb;
}

/* Makes the demo screenshots and their thumbnails in the blob store. */
static int make_shots(struct demo *d)
{
    tjhandle tj = tjInitCompress();
    int r = 0;

    if (!tj)
        return -ENOMEM;
    for (int i = 0; i < DEMO_SHOTS && r == 0; i++) {
        const int w = 1280, h = 720;
        unsigned char *rgb = fake_desktop(i, w, h), *jpeg = NULL;
        unsigned long len = 0;
        struct image_info info;
        void *thumb = NULL;
        size_t thumb_len = 0;

        if (tjCompress2(tj, rgb, w, 0, h, TJPF_RGB, &jpeg, &len, TJSAMP_420, 75, 0) < 0 ||
            image_process(jpeg, len, &info, &thumb, &thumb_len) < 0 ||
            blob_put(d->srv->blobs, jpeg, len, d->shots[i].shot) < 0 ||
            blob_put(d->srv->blobs, thumb, thumb_len, d->shots[i].thumb) < 0)
            r = -EIO;
        d->shots[i].bytes = len;
        tjFree(jpeg);
        free(thumb);
        free(rgb);
    }
    tjDestroy(tj);
    return r;
}

/*
 * Two work sessions a day from Monday until now, with activity, memos,
 * tags and screenshots, so the diary has something to show. The morning is
 * tracked on an X11 laptop (key and mouse counts), the afternoon on a
 * Wayland one (active seconds: the seconds of each minute with input), so
 * the diary shows both measures.
 */
static int seed_diary(struct store_tx *tx, struct demo *d, int64_t now)
{
    static const char *const memos[] = {"Wireframes for the hero section",
                                        "Built the pricing table component",
                                        "Call with Dana about the copy"};
    static const char *const tags[] = {"design", "development", "meeting"};
    int seg_s = d->srv->cfg.segment_s, bucket_s = seg_s / ST_SEG_BUCKETS, n = 0;
    int64_t week = st_week_start(now);
    unsigned seed = 7;

    for (int64_t day = week; day < now; day += ST_DAY_S) {
        for (int session = 0; session < 2; session++) {
            int64_t from = day + (session ? 13 * 3600 : 9 * 3600), to = from + 5400;
            for (int64_t t = from; t < to && t + seg_s <= now; t += seg_s) {
                struct seg_row row = {0};
                struct store_stmt *st;
                int k = (int)((t / 3600 + session) % 3), r;

                st_uuid_new(row.s.id);
                snprintf(row.s.contract_id, sizeof(row.s.contract_id), "%s", d->c.id);
                snprintf(row.s.device_id, sizeof(row.s.device_id), "%s",
                         session ? "demo-wayland-laptop" : "demo-laptop");
                if (session) {
                    row.s.measure = ST_MEASURE_ACTIVE_SECONDS;
                    row.s.has_active_s = true;
                }
                snprintf(row.freelancer_id, sizeof(row.freelancer_id), "%s", d->c.freelancer_id);
                row.s.start = t;
                row.seg_s = seg_s;
                for (int b = 0; b < ST_SEG_BUCKETS; b++) {
                    seed = seed * 1103515245u + 12345u;
                    row.s.b[b].tracked_s = bucket_s;
                    /* A quiet minute now and then: reading is work too. */
                    if ((seed >> 16) % 7 == 0)
                        continue;
                    if (session) {
                        int lo = bucket_s / 3; /* a third of the minute to all of it */
                        row.s.b[b].active_s =
                            lo + (int)((seed >> 8) % (unsigned)(bucket_s - lo + 1));
                        continue;
                    }
                    row.s.b[b].keys = (int)((seed >> 8) % 90) * (k == 2 ? 0 : 1);
                    row.s.b[b].mouse = 5 + (int)((seed >> 4) % 120);
                }
                row.s.memo = (char *)memos[k];
                row.s.tags = json_pack("[s]", tags[k]);
                row.s.shot_status = ST_SHOT_OK;
                row.s.shot_taken_at = t + (int64_t)(seed % (unsigned)seg_s);
                row.received_at = t + seg_s;
                r = segments_insert(tx, &row, t + seg_s);
                json_decref(row.s.tags);
                if (r < 0)
                    return r;
                st = store_prepare(tx, "UPDATE segments SET shot_blob = ?, shot_type = ?,"
                                       " shot_bytes = ?, thumb_blob = ? WHERE id = ?");
                store_bind_text(st, 1, d->shots[n % DEMO_SHOTS].shot);
                store_bind_text(st, 2, "image/jpeg");
                store_bind_int(st, 3, (int64_t)d->shots[n % DEMO_SHOTS].bytes);
                store_bind_text(st, 4, d->shots[n % DEMO_SHOTS].thumb);
                store_bind_text(st, 5, row.s.id);
                if ((r = store_run(st)) < 0)
                    return r;
                n++;
            }
        }
    }
    return 0;
}

/*
 * The parties talking about the work in the contract's room over the last
 * two days, the freelancer last, so that the client has something unread.
 */
static int seed_messages(struct store_tx *tx, struct demo *d, int64_t now)
{
    static const struct {
        bool client;
        int minutes_ago;
        bool reply_to_previous;
        const char *text;
    } lines[] = {
        {true, 2900, false,
         "Hi Frankie, welcome aboard! The brief and the brand assets are here: "
         "https://example.com/landing-brief"},
        {false, 2885, false, "Thanks Dana! I'm starting with wireframes for the hero section."},
        {true, 2883, false, "Great. Mobile first, please: most of our visitors are on phones."},
        {false, 2500, false,
         "First wireframes are up, with two options for the hero: the product shot, or a "
         "customer quote."},
        {true, 1500, false,
         "Option B with the quote, definitely. Can the pricing table fit above the fold on "
         "desktop?"},
        {false, 1487, true,
         "On desktop, yes. On mobile it comes right after the hero. Building the pricing "
         "table component now."},
        {false, 200, false,
         "The pricing table is done, three tiers. A call tomorrow about the copy?"},
        {true, 189, false, "Yes! 11:00 my time?"},
        {false, 180, false, "11:00 your time it is. I'll send the draft copy before the call."},
    };
    char room_id[ROOM_ID_MAX + 1], prev[ST_UUID_LEN + 1] = "", why[ROOM_WHY_LEN];
    int64_t t = st_week_start(now);

    snprintf(room_id, sizeof(room_id), "c-%s", d->c.id);
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        const char *author = lines[i].client ? d->c.client_id : d->c.freelancer_id;
        struct message_new m = {.author_id = author, .text = lines[i].text};
        struct room r;
        json_t *msg;
        int rc;

        /* In order, after the contract began, whatever the hour of the week. */
        t = now - lines[i].minutes_ago * 60 > t + 60 ? now - lines[i].minutes_ago * 60 : t + 60;
        if (lines[i].reply_to_previous && prev[0])
            m.reply_to = prev;
        if ((rc = rooms_get_for(tx, room_id, author, &r)) < 0 ||
            (rc = messages_post(tx, &r, &m, t, &msg, why)) < 0)
            return rc;
        snprintf(prev, sizeof(prev), "%s", json_string_value(json_object_get(msg, "id")));
        json_decref(msg);
    }
    return 0;
}

static int seed(struct store_tx *tx, void *arg)
{
    struct demo *d = arg;
    int64_t now = server_now(d->srv);
    struct store_stmt *st = store_prepare(tx, "SELECT COUNT(*) FROM users");
    struct user client = {0}, freelancer = {0};
    int r;

    if ((r = store_step(st)) < 0)
        return r;
    if (store_col_int(st, 0) > 0)
        return 0;
    snprintf(client.email, sizeof(client.email), DEMO_CLIENT_EMAIL);
    snprintf(client.name, sizeof(client.name), "Dana Client");
    snprintf(client.role, sizeof(client.role), "client");
    snprintf(client.timezone, sizeof(client.timezone), "America/New_York");
    client.created_at = now;
    snprintf(freelancer.email, sizeof(freelancer.email), DEMO_FREELANCER_EMAIL);
    snprintf(freelancer.name, sizeof(freelancer.name), "Frankie Freelancer");
    snprintf(freelancer.role, sizeof(freelancer.role), "freelancer");
    snprintf(freelancer.timezone, sizeof(freelancer.timezone), "Europe/Berlin");
    freelancer.created_at = now;
    if ((r = users_insert(tx, &client, d->client_hash)) < 0 ||
        (r = users_insert(tx, &freelancer, d->freelancer_hash)) < 0)
        return r;
    snprintf(d->c.client_id, sizeof(d->c.client_id), "%s", client.id);
    snprintf(d->c.freelancer_id, sizeof(d->c.freelancer_id), "%s", freelancer.id);
    snprintf(d->c.title, sizeof(d->c.title), "Landing page redesign");
    snprintf(d->c.state, sizeof(d->c.state), "active");
    snprintf(d->c.currency, sizeof(d->c.currency), "USD");
    d->c.hourly_rate_cents = 4500;
    d->c.manual_time_allowed = true;
    d->c.screenshots_enabled = true;
    d->c.memo_required = true;
    d->c.tags = json_pack("[s,s,s]", "design", "development", "meeting");
    /* Active since Monday, so the week can hold the demo diary and manual time. */
    if ((r = contracts_insert(tx, &d->c, 40 * 3600, st_week_start(now))) < 0)
        return r;
    if ((r = seed_diary(tx, d, now)) < 0 || (r = seed_messages(tx, d, now)) < 0)
        return r;
    d->seeded = true;
    return 0;
}

/* 1 when the store has users, 0 when it has none. */
static int count_users(struct store_tx *tx, void *arg)
{
    struct store_stmt *st = store_prepare(tx, "SELECT COUNT(*) FROM users");
    int r = store_step(st);

    return r < 0 ? r : store_col_int(st, 0) > 0;
}

int demo_seed(struct server *srv)
{
    struct demo d = {.srv = srv};
    int r;

    if ((r = store_read(srv->store, count_users, NULL)) != 0)
        return r < 0 ? r : 0;
    if (auth_hash_password(DEMO_CLIENT_PASSWORD, d.client_hash) < 0 ||
        auth_hash_password(DEMO_FREELANCER_PASSWORD, d.freelancer_hash) < 0)
        return -ENOMEM;
    /* Blobs first: a row may name a blob only once the blob is durable. */
    if ((r = make_shots(&d)) < 0)
        return r;
    r = store_write(srv->store, seed, &d);
    if (r < 0 || !d.seeded) {
        contracts_release(&d.c);
        return r;
    }
    printf("demo data created:\n"
           "  client      %s  password %s\n"
           "  freelancer  %s  password %s\n"
           "  contract    %s  \"%s\" ($45.00/h, 40 h a week, active)\n",
           DEMO_CLIENT_EMAIL, DEMO_CLIENT_PASSWORD, DEMO_FREELANCER_EMAIL,
           DEMO_FREELANCER_PASSWORD, d.c.id, d.c.title);
    contracts_release(&d.c);
    return 0;
}
