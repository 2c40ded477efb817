/* svg.c - inline SVG charts for the report: numeric and categorical axes
 * with nice ticks and titles, bars, lines (plain, dashed, steps), shaded
 * bands, reference lines, legends, and a horizontal bar chart.
 *
 * Charts are plain SVG inside the page (no script): the text inherits the
 * page's font, so Chinese labels use the CJK font the CSS names.  Data
 * coordinates map to pixels through the ranges set by the axes call; NaN
 * points are skipped (a line breaks there).
 */
#include "report/report_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const cvm__palette[8] = {"#2f6db5",
                                     "#e07b39",
                                     "#3a9d5d",
                                     "#c0392b",
                                     "#8e6bbf",
                                     "#8c6d31",
                                     "#d6609f",
                                     "#7f7f7f"};

#define FONT_TICK 11
#define FONT_TITLE 12

static double px(const rsvg_t *c, double x)
{
    double span = c->x1 - c->x0;
    return c->ml +
           (span > 0 ? (x - c->x0) / span : 0.5) * (c->w - c->ml - c->mr);
}

static double py(const rsvg_t *c, double y)
{
    double span = c->y1 - c->y0;
    double t = span > 0 ? (y - c->y0) / span : 0.5;
    if (t < -0.02) {
        t = -0.02;
    } else if (t > 1.02) {
        t = 1.02;
    }
    return c->mt + (1 - t) * (c->h - c->mt - c->mb);
}

/* A "nice" tick step (1, 2, 2.5 or 5 times a power of ten) giving about
 * `target` ticks over range. */
static double nice_step(double range, int target)
{
    if (!(range > 0) || !isfinite(range)) {
        return 1;
    }
    double raw = range / target;
    double p = pow(10, floor(log10(raw)));
    double f = raw / p;
    double nf = f < 1.5 ? 1 : f < 2.25 ? 2 : f < 3.5 ? 2.5 : f < 7.5 ? 5 : 10;
    return nf * p;
}

/* Decimals needed to show multiples of step exactly (at most 6). */
static int step_decimals(double step)
{
    for (int d = 0; d < 6; d++) {
        double s = step * pow(10, d);
        if (fabs(s - round(s)) < 1e-6 * (s > 1 ? s : 1)) {
            return d;
        }
    }
    return 6;
}

const char *rsvg_fmt(char *buf, double v, rax_fmt f, double step)
{
    switch (f) {
    case RAX_PCT:
        return rf_pct(buf, v, step > 0 ? step_decimals(step * 100) : 1);
    case RAX_INT:
        return rf_int(buf, v);
    default:
        return rf_fix(buf, v, step > 0 ? step_decimals(step) : 2);
    }
}

/* Approximate width in pixels of text at a font size: CJK and other
 * multi-byte characters are about one em, ASCII about 0.58 em. */
static double text_width(const char *s, double size)
{
    double w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x80) {
            w += 0.58 * size;
        } else if ((*p & 0xC0) == 0xC0) {
            w += (*p >= 0xE0 ? 1.0 : 0.6) * size;
        }
    }
    return w;
}

static void text(rsvg_t *c,
                 double x,
                 double y,
                 const char *anchor,
                 int size,
                 const char *extra,
                 const char *s)
{
    cvm__buf_printf(c->b,
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" "
                    "font-size=\"%d\"%s%s>",
                    x,
                    y,
                    anchor,
                    size,
                    extra ? " " : "",
                    extra ? extra : "");
    rh_esc(c->b, s);
    cvm__buf_puts(c->b, "</text>");
}

void rsvg_begin(rsvg_t *c, rep_t *r, const char *title, double w, double h)
{
    memset(c, 0, sizeof *c);
    c->b = r->b;
    c->lang = r->lang;
    c->w = w;
    c->h = h;
    c->ml = 64;
    c->mr = 18;
    c->mt = 14;
    c->mb = 50;
    c->x0 = c->y0 = 0;
    c->x1 = c->y1 = 1;
    r->chart_seq++;
    cvm__buf_printf(c->b,
                    "<figure class=\"chart\" id=\"chart-%d\"><figcaption>",
                    r->chart_seq);
    rh_esc(c->b, title);
    cvm__buf_printf(c->b,
                    "</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" "
                    "viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
                    "role=\"img\" aria-label=\"",
                    w,
                    h,
                    w,
                    h);
    rh_esc(c->b, title);
    cvm__buf_puts(c->b, "\">");
}

void rsvg_end(rsvg_t *c)
{
    cvm__buf_puts(c->b, "</svg></figure>\n");
}

/* Grid, ticks and labels of the y axis, and the frame. */
static void y_axis(rsvg_t *c, const char *ytitle, rax_fmt yf)
{
    char buf[RF_LEN];
    double step = nice_step(c->y1 - c->y0, 5);
    double left = c->ml, right = c->w - c->mr;
    for (double v = ceil(c->y0 / step - 1e-9) * step; v <= c->y1 + step * 1e-6;
         v += step)
    {
        double y = py(c, v);
        cvm__buf_printf(c->b,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                        "class=\"grid\"/>",
                        left,
                        y,
                        right,
                        y);
        text(c,
             left - 6,
             y + 4,
             "end",
             FONT_TICK,
             NULL,
             rsvg_fmt(buf, fabs(v) < step * 1e-9 ? 0 : v, yf, step));
    }
    cvm__buf_printf(c->b,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                    "height=\"%.1f\" class=\"frame\"/>",
                    left,
                    c->mt,
                    right - left,
                    c->h - c->mt - c->mb);
    if (ytitle) {
        char tr[96];
        double cy = c->mt + (c->h - c->mt - c->mb) / 2;
        snprintf(tr, sizeof tr, "transform=\"rotate(-90 14 %.1f)\"", cy);
        text(c, 14, cy, "middle", FONT_TITLE, tr, ytitle);
    }
}

static void x_title(rsvg_t *c, const char *xtitle)
{
    if (xtitle) {
        text(c,
             c->ml + (c->w - c->ml - c->mr) / 2,
             c->h - 10,
             "middle",
             FONT_TITLE,
             NULL,
             xtitle);
    }
}

void rsvg_axes(rsvg_t *c,
               double x0,
               double x1,
               double y0,
               double y1,
               const char *xtitle,
               const char *ytitle,
               rax_fmt xf,
               rax_fmt yf)
{
    c->x0 = x0;
    c->x1 = x1 > x0 ? x1 : x0 + 1;
    c->y0 = y0;
    c->y1 = y1 > y0 ? y1 : y0 + 1;
    c->ncat = 0;
    y_axis(c, ytitle, yf);
    char buf[RF_LEN];
    double step = nice_step(c->x1 - c->x0, 6);
    double bottom = c->h - c->mb;
    for (double v = ceil(c->x0 / step - 1e-9) * step; v <= c->x1 + step * 1e-6;
         v += step)
    {
        double x = px(c, v);
        cvm__buf_printf(c->b,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                        "class=\"grid\"/>",
                        x,
                        c->mt,
                        x,
                        bottom);
        text(c,
             x,
             bottom + 16,
             "middle",
             FONT_TICK,
             NULL,
             rsvg_fmt(buf, fabs(v) < step * 1e-9 ? 0 : v, xf, step));
    }
    x_title(c, xtitle);
}

void rsvg_cat_axes(rsvg_t *c,
                   size_t n,
                   const char *const *labels,
                   double y0,
                   double y1,
                   const char *xtitle,
                   const char *ytitle,
                   rax_fmt yf)
{
    c->ncat = n ? n : 1;
    c->x0 = -0.5;
    c->x1 = (double)c->ncat - 0.5;
    c->y0 = y0;
    c->y1 = y1 > y0 ? y1 : y0 + 1;
    y_axis(c, ytitle, yf);
    double slot = (c->w - c->ml - c->mr) / (double)c->ncat;
    /* Thin the labels out when they would overlap. */
    double widest = 0;
    for (size_t i = 0; i < n; i++) {
        double tw = labels && labels[i] ? text_width(labels[i], FONT_TICK) : 0;
        widest = tw > widest ? tw : widest;
    }
    size_t every = 1;
    while (every < n && widest + 4 > slot * (double)every) {
        every++;
    }
    for (size_t i = 0; i < n; i++) {
        if (labels && labels[i] && i % every == 0) {
            text(c,
                 px(c, (double)i),
                 c->h - c->mb + 16,
                 "middle",
                 FONT_TICK,
                 NULL,
                 labels[i]);
        }
    }
    x_title(c, xtitle);
}

void rsvg_bars(rsvg_t *c,
               const double *y,
               size_t n,
               int k,
               int nseries,
               const char *color,
               int lf)
{
    double slot = (c->w - c->ml - c->mr) / (double)(c->ncat ? c->ncat : 1);
    double bw = slot * 0.72 / (nseries > 0 ? nseries : 1);
    double base = py(c, c->y0 > 0 ? c->y0 : (c->y1 < 0 ? c->y1 : 0));
    char buf[RF_LEN];
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i])) {
            continue;
        }
        double x = px(c, (double)i) - slot * 0.36 + bw * k;
        double top = py(c, y[i]);
        double y0 = top < base ? top : base, hh = fabs(base - top);
        cvm__buf_printf(c->b,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                        "height=\"%.1f\" fill=\"%s\"><title>",
                        x,
                        y0,
                        bw,
                        hh,
                        color);
        rh_esc(c->b,
               rsvg_fmt(buf, y[i], lf >= 0 ? (rax_fmt)lf : RAX_NUM, 0.01));
        cvm__buf_puts(c->b, "</title></rect>");
        if (lf >= 0 && bw >= 14) {
            text(c,
                 x + bw / 2,
                 y0 - 3,
                 "middle",
                 10,
                 "class=\"vl\"",
                 rsvg_fmt(buf,
                          y[i],
                          (rax_fmt)lf,
                          lf == RAX_PCT       ? 0.001
                          : fabs(y[i]) >= 100 ? 1
                                              : 0.01));
        }
    }
}

void rsvg_line(rsvg_t *c,
               const double *x,
               const double *y,
               size_t n,
               const char *color,
               int style)
{
    int pen = 0;
    cvm__buf_puts(c->b, "<path d=\"");
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i])) {
            pen = 0;
            continue;
        }
        double X = px(c, x[i]), Y = py(c, y[i]);
        if (!pen) {
            cvm__buf_printf(c->b, "M%.1f %.1f", X, Y);
            pen = 1;
        } else if (style & RL_STEP) {
            cvm__buf_printf(c->b, "H%.1f V%.1f", X, Y);
        } else {
            cvm__buf_printf(c->b, "L%.1f %.1f", X, Y);
        }
    }
    cvm__buf_printf(c->b,
                    "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s/>",
                    color,
                    (style & RL_DASH) ? " stroke-dasharray=\"5 4\"" : "");
    if (style & RL_MARK) {
        for (size_t i = 0; i < n; i++) {
            if (isfinite(x[i]) && isfinite(y[i])) {
                cvm__buf_printf(c->b,
                                "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
                                "fill=\"%s\"/>",
                                px(c, x[i]),
                                py(c, y[i]),
                                color);
            }
        }
    }
}

void rsvg_band(rsvg_t *c,
               const double *x,
               const double *lo,
               const double *hi,
               size_t n,
               const char *color,
               int step)
{
    size_t i = 0;
    while (i < n) {
        /* One run of finite points. */
        while (i < n && !(isfinite(x[i]) && isfinite(lo[i]) && isfinite(hi[i])))
        {
            i++;
        }
        size_t a = i;
        while (i < n && isfinite(x[i]) && isfinite(lo[i]) && isfinite(hi[i])) {
            i++;
        }
        size_t e = i; /* [a, e) */
        if (e <= a) {
            continue;
        }
        /* Steps extend to the next point's x when there is one. */
        double xend = e < n && isfinite(x[e]) ? x[e] : x[e - 1];
        cvm__buf_puts(c->b, "<path d=\"");
        for (size_t j = a; j < e; j++) {
            double X = px(c, x[j]), Y = py(c, hi[j]);
            cvm__buf_printf(c->b, "%c%.1f %.1f", j == a ? 'M' : 'L', X, Y);
            if (step) {
                double xn = j + 1 < e ? x[j + 1] : xend;
                cvm__buf_printf(c->b, "L%.1f %.1f", px(c, xn), Y);
            }
        }
        for (size_t j = e; j-- > a;) {
            double X = px(c, x[j]), Y = py(c, lo[j]);
            if (step) {
                double xn = j + 1 < e ? x[j + 1] : xend;
                cvm__buf_printf(c->b, "L%.1f %.1f", px(c, xn), Y);
            }
            cvm__buf_printf(c->b, "L%.1f %.1f", X, Y);
        }
        cvm__buf_printf(c->b,
                        "Z\" fill=\"%s\" fill-opacity=\"0.15\" "
                        "stroke=\"none\"/>",
                        color);
    }
}

void rsvg_hline(rsvg_t *c, double y, const char *color)
{
    double Y = py(c, y);
    cvm__buf_printf(c->b,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                    "stroke=\"%s\" stroke-width=\"1.5\" "
                    "stroke-dasharray=\"5 4\"/>",
                    c->ml,
                    Y,
                    c->w - c->mr,
                    Y,
                    color);
}

void rsvg_legend(rsvg_t *c,
                 size_t n,
                 const char *const *labels,
                 const char *const *colors,
                 const int *styles)
{
    double widest = 0;
    for (size_t i = 0; i < n; i++) {
        double tw = text_width(labels[i], FONT_TICK);
        widest = tw > widest ? tw : widest;
    }
    double bw = widest + 36, bh = 8 + 16 * (double)n;
    double x = c->w - c->mr - bw - 6, y = c->mt + 6;
    /* Bottom right when asked (style bit 8 on the first entry). */
    if (styles && (styles[0] & 8)) {
        y = c->h - c->mb - bh - 6;
    }
    cvm__buf_printf(c->b,
                    "<g class=\"legend\"><rect x=\"%.1f\" y=\"%.1f\" "
                    "width=\"%.1f\" height=\"%.1f\" rx=\"3\"/>",
                    x,
                    y,
                    bw,
                    bh);
    for (size_t i = 0; i < n; i++) {
        double ly = y + 12 + 16 * (double)i;
        int st = styles ? styles[i] : 0;
        cvm__buf_printf(c->b,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                        "y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%s\"%s/>",
                        x + 6,
                        ly - 4,
                        x + 26,
                        ly - 4,
                        colors[i],
                        (st & 16) ? "8" : "2",
                        (st & RL_DASH) ? " stroke-dasharray=\"5 4\"" : "");
        text(c, x + 30, ly, "start", FONT_TICK, NULL, labels[i]);
    }
    cvm__buf_puts(c->b, "</g>");
}

void rsvg_hbar_chart(rep_t *r,
                     const char *title,
                     const char *const *labels,
                     const double *v,
                     size_t n,
                     const char *xtitle,
                     rax_fmt fmt,
                     const char *color)
{
    double lw = 0, vmax = 0;
    for (size_t i = 0; i < n; i++) {
        double tw = text_width(labels[i], FONT_TICK);
        lw = tw > lw ? tw : lw;
        if (isfinite(v[i]) && v[i] > vmax) {
            vmax = v[i];
        }
    }
    lw = lw > 240 ? 240 : lw;
    rsvg_t c;
    double row = 22;
    rsvg_begin(&c, r, title, 540, 40 + row * (double)n + 20);
    c.ml = lw + 14;
    c.mr = 70;
    c.mt = 8;
    c.mb = 40;
    c.x0 = 0;
    c.x1 = vmax > 0 ? vmax : 1;
    char buf[RF_LEN];
    double step = nice_step(c.x1, 4);
    double bottom = c.h - c.mb;
    for (double t = 0; t <= c.x1 + step * 1e-6; t += step) {
        double x = px(&c, t);
        cvm__buf_printf(c.b,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                        "class=\"grid\"/>",
                        x,
                        c.mt,
                        x,
                        bottom);
        text(&c,
             x,
             bottom + 14,
             "middle",
             10,
             NULL,
             rsvg_fmt(buf, t, fmt, step));
    }
    for (size_t i = 0; i < n; i++) {
        double y = c.mt + 4 + row * (double)i;
        double val = isfinite(v[i]) && v[i] > 0 ? v[i] : 0;
        text(&c, c.ml - 6, y + 12, "end", FONT_TICK, NULL, labels[i]);
        cvm__buf_printf(c.b,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                        "height=\"%.1f\" fill=\"%s\"/>",
                        c.ml,
                        y + 2,
                        px(&c, val) - c.ml,
                        row - 6,
                        color);
        text(&c,
             px(&c, val) + 4,
             y + 12,
             "start",
             10,
             "class=\"vl\"",
             rsvg_fmt(buf, v[i], fmt, fmt == RAX_PCT ? 0.001 : 1));
    }
    if (xtitle) {
        text(&c,
             c.ml + (c.w - c.ml - c.mr) / 2,
             c.h - 8,
             "middle",
             FONT_TITLE,
             NULL,
             xtitle);
    }
    rsvg_end(&c);
}
