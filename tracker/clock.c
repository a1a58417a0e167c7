/*
 * The real clocks (the system's, through lib/os.h) and the fake clock tests
 * drive (clock.h). Not for: turning times into dates (lib/utc.h, lib/week.h).
 */
#include "tracker/clock.h"

#include "lib/os.h"

static int64_t real_wall_ms(const struct tk_clock *c)
{
    return st_os_wall_ms();
}

static int64_t real_mono_ms(const struct tk_clock *c)
{
    return st_os_mono_ms();
}

const struct tk_clock tk_clock_real = {
    .wall_ms = real_wall_ms,
    .mono_ms = real_mono_ms,
    .ctx = NULL,
};

/*
 * The fake clock's reads and writes are atomic so that the engine's thread
 * may read it while the test's thread moves it.
 */
static int64_t fake_wall_ms(const struct tk_clock *c)
{
    const struct tk_fake_clock *f = c->ctx;
    return __atomic_load_n(&f->wall, __ATOMIC_SEQ_CST);
}

static int64_t fake_mono_ms(const struct tk_clock *c)
{
    const struct tk_fake_clock *f = c->ctx;
    return __atomic_load_n(&f->mono, __ATOMIC_SEQ_CST);
}

void tk_fake_clock_init(struct tk_fake_clock *f, int64_t wall_ms)
{
    f->clock.wall_ms = fake_wall_ms;
    f->clock.mono_ms = fake_mono_ms;
    f->clock.ctx = f;
    __atomic_store_n(&f->wall, wall_ms, __ATOMIC_SEQ_CST);
    __atomic_store_n(&f->mono, 0, __ATOMIC_SEQ_CST);
}

void tk_fake_clock_advance(struct tk_fake_clock *f, int64_t ms)
{
    __atomic_add_fetch(&f->wall, ms, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&f->mono, ms, __ATOMIC_SEQ_CST);
}

void tk_fake_clock_jump_wall(struct tk_fake_clock *f, int64_t ms)
{
    __atomic_add_fetch(&f->wall, ms, __ATOMIC_SEQ_CST);
}
