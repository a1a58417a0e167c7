/*
 * The state icons (icons.h), drawn pixel by pixel into a 32-bit DIB with
 * alpha: each pixel's coverage of the disc and of the white mark is worked
 * out from its distance to them, so the edges are smooth at any size.
 */
#include "windows/tray/icons.h"

#include <math.h>
#include <stdint.h>

static double clamp01(double v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* Coverage of the white mark at (x, y), in units of the icon's radius r around (0, 0). */
static double mark(enum tray_state s, double x, double y, double r, double px)
{
    switch (s) {
    case TRAY_TRACKING:
        return clamp01(0.38 * r - sqrt(x * x + y * y) + 0.5 * px);
    case TRAY_OFFLINE:
        return clamp01(fmin(0.55 * r - fabs(x), 0.16 * r - fabs(y)) + 0.5 * px);
    case TRAY_ERROR: {
        double d1 = fabs(x - y) / sqrt(2), d2 = fabs(x + y) / sqrt(2);
        double in = 0.5 * r - fmax(fabs(x), fabs(y));
        return clamp01(fmin(0.13 * r - fmin(d1, d2), in) + 0.5 * px);
    }
    default:
        return 0;
    }
}

HICON tray_icon_make(enum tray_state s, int size)
{
    static const uint32_t colour[] = {0x6b7280, 0x16a34a, 0xd97706, 0xdc2626};
    BITMAPV5HEADER bi = {0};
    ICONINFO ii = {0};
    uint32_t *px = NULL;
    HDC dc = GetDC(NULL);
    HBITMAP bmp, mask;
    HICON icon = NULL;
    double r = size / 2.0 - 0.5, c = (size - 1) / 2.0;
    uint32_t rgb = colour[s];

    bi.bV5Size = sizeof(bi);
    bi.bV5Width = size;
    bi.bV5Height = -size;
    bi.bV5Planes = 1;
    bi.bV5BitCount = 32;
    bi.bV5Compression = BI_BITFIELDS;
    bi.bV5RedMask = 0x00ff0000;
    bi.bV5GreenMask = 0x0000ff00;
    bi.bV5BlueMask = 0x000000ff;
    bi.bV5AlphaMask = 0xff000000;
    bmp = CreateDIBSection(dc, (BITMAPINFO *)&bi, DIB_RGB_COLORS, (void **)&px, NULL, 0);
    ReleaseDC(NULL, dc);
    if (!bmp)
        return NULL;
    for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
            double dx = x - c, dy = y - c, d = sqrt(dx * dx + dy * dy);
            double disc = clamp01(r - d + 0.5);
            double white = mark(s, dx, dy, r, 1.0);
            double a;
            double cr = (rgb >> 16 & 0xff), cg = (rgb >> 8 & 0xff), cb = (rgb & 0xff);

            if (s == TRAY_STOPPED) /* a ring: the disc less its inside */
                disc = fmin(disc, clamp01(d - 0.55 * r + 0.5));
            a = disc;
            cr = cr * (1 - white) + 255 * white;
            cg = cg * (1 - white) + 255 * white;
            cb = cb * (1 - white) + 255 * white;
            /* premultiplied alpha */
            px[y * size + x] = (uint32_t)(a * 255 + 0.5) << 24 | (uint32_t)(cr * a + 0.5) << 16 |
                               (uint32_t)(cg * a + 0.5) << 8 | (uint32_t)(cb * a + 0.5);
        }
    }
    mask = CreateBitmap(size, size, 1, 1, NULL);
    ii.fIcon = TRUE;
    ii.hbmColor = bmp;
    ii.hbmMask = mask;
    if (mask)
        icon = CreateIconIndirect(&ii);
    DeleteObject(bmp);
    if (mask)
        DeleteObject(mask);
    return icon;
}
