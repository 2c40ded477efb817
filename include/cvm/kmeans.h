/* kmeans.h - k-means clusters of subscribers, their profiles and names.
 *
 * Clusters rows of numeric features (the wide table of a month, or any
 * numeric CSV) with k-means: k-means++ seeding (greedy, 2 + ln k local
 * trials per center, as scikit-learn does), then Hamerly's accelerated
 * exact algorithm (the same labels and centers as plain Lloyd iterations
 * from the same seeds, with most distance computations skipped), or
 * mini-batch k-means for tens of millions of rows.  The best of several
 * restarts (lowest inertia) is kept.  k may be chosen automatically: every
 * k of a range is fitted and the one with the best mean silhouette on a
 * sample of rows wins.
 *
 * Features are scaled first (z-scores with the population standard
 * deviation, median/IQR, or none); a missing value (NaN, +-inf, a null)
 * takes its column's mean, which is 0 after z-scaling.  Results are
 * deterministic for a seed and do not depend on the number of threads:
 * random draws happen outside the parallel loops and every parallel sum
 * is cut into blocks that depend only on the number of rows.
 *
 * The profile compares each cluster's mean of any numeric column with the
 * population (a z-score) and names each cluster, in English and Chinese,
 * from its most distinctive features ("heavy data, young, light voice";
 * the rule is in docs/clusters.md).
 *
 * A run (cvm_kmeans_run_table()) chains the fit and the profile and gives
 * the summary JSON; cvm_kmeans_run_store() is the month's clusters of the
 * store, as `cvm segment kmeans --db` and the "kmeans" stage of `cvm run`
 * make them: the wide table, the three result tables and the summary.
 */
#ifndef CVM_KMEANS_H
#define CVM_KMEANS_H

#include "cvm/status.h"
#include "cvm/store.h"
#include "cvm/table.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ==== Fitting ==== */

typedef enum {
    CVM_KMEANS_SCALE_Z = 0,  /* (x - mean) / population std (std 0: 1) */
    CVM_KMEANS_SCALE_ROBUST, /* (x - median) / IQR (IQR 0: the std, or 1) */
    CVM_KMEANS_SCALE_NONE    /* as given */
} cvm_kmeans_scale;

typedef enum {
    CVM_KMEANS_HAMERLY = 0, /* exact, accelerated (default) */
    CVM_KMEANS_LLOYD,       /* exact, plain: every distance every time */
    CVM_KMEANS_MINIBATCH    /* approximate, for very many rows */
} cvm_kmeans_algorithm;

/** Called after each restart: done of total fits (auto k: all k). */
typedef void (*cvm_kmeans_progress_cb)(void *ud, int done, int total);

typedef struct {
    int k;                          /* clusters, >= 1 (8); 0 = choose */
    int k_min, k_max;               /* range tried when k = 0 (default 2..10) */
    size_t silhouette_sample;       /* rows scored for the silhouette when k = 0
                                       (default 10000; 0 = all rows) */
    cvm_kmeans_scale scale;         /* default CVM_KMEANS_SCALE_Z */
    cvm_kmeans_algorithm algorithm; /* default CVM_KMEANS_HAMERLY */
    int restarts;       /* seedings tried, the lowest inertia kept (10);
                           mini-batch: the best seeding gets one run */
    int max_iter;       /* iterations (mini-batch: passes over the rows)
                           per restart (default 300) */
    double tol;         /* stop when the squared center shift falls to
                           tol x the mean variance of the scaled columns
                           (default 1e-4, scikit-learn's) */
    uint64_t seed;      /* random seed (default 0) */
    size_t batch_size;  /* mini-batch rows per step (default 4096) */
    int threads;        /* OpenMP threads; 0 = OpenMP's default */
    const double *init; /* optional k x d initial centers, row-major, in
                           scaled units: no seeding, one run (borrowed) */
    cvm_kmeans_progress_cb progress;
    void *progress_ud;
} cvm_kmeans_options_t;

/** @brief Fills *o with the defaults above. */
void cvm_kmeans_options_init(cvm_kmeans_options_t *o);

/** One k tried when choosing k. */
typedef struct {
    int k;
    double inertia;
    double silhouette; /* mean silhouette on the sample */
} cvm_kmeans_trial_t;

/**
 * Result of a fit.  Initialise with cvm_kmeans_result_init(); every array
 * belongs to the result (cvm_kmeans_result_destroy()).
 */
typedef struct {
    int k;                /* clusters (the chosen one when k was 0) */
    size_t n;             /* rows */
    size_t d;             /* features */
    int32_t *labels;      /* n: cluster of each row, 0..k-1 */
    double *distance;     /* n: Euclidean distance to its center (scaled) */
    int64_t *sizes;       /* k: rows per cluster */
    double *within;       /* k: sum of squared distances per cluster */
    double inertia;       /* sum of within[] */
    double total_ss;      /* sum of squared distances to the overall mean:
                             1 - inertia / total_ss is the share explained */
    double *centers;      /* k x d row-major, scaled units */
    double *centers_orig; /* k x d row-major, original units */
    double *shift;        /* d: subtracted by the scaling (mean, median) */
    double *scale;        /* d: then divided by (std, IQR, 1) */
    double *fill;         /* d: what replaced a missing value (the mean of
                             the observed values, original units) */
    size_t *missing;      /* d: missing values per feature */
    int iterations;       /* of the kept run */
    int converged;        /* 1 if the kept run converged before max_iter */
    int restart;          /* which restart was kept (0-based) */
    double silhouette;    /* chosen k's mean silhouette (NaN unless k = 0) */
    size_t ntrials;       /* k = 0: the k tried, in order */
    cvm_kmeans_trial_t *trials;
    cvm_kmeans_algorithm algorithm;
    double seconds; /* wall time of the fit */
} cvm_kmeans_result_t;

void cvm_kmeans_result_init(cvm_kmeans_result_t *r);
/** @brief Frees the arrays of r and re-initialises it; NULL is a no-op. */
void cvm_kmeans_result_destroy(cvm_kmeans_result_t *r);

/**
 * @brief Clusters n rows of d features, row-major x[i * d + j].
 * NaN and +-inf are missing.  Scaling, imputation and the algorithm follow
 * opt (NULL: the defaults of cvm_kmeans_options_init(), k = 8).  Small
 * inputs (n x d under 262,144) run on one thread whatever opt->threads.
 * @param out initialised by the caller, filled here; on error its arrays
 *        are freed and it is re-initialised.
 * Ownership: x, opt (and opt->init) are borrowed; the arrays of *out
 * belong to it.
 * Errors: CVM_EINVAL (NULL arguments, d = 0, k > n, k = 0 with fewer than
 * three rows, a bad option), CVM_ENOMEM.
 * Complexity: memory 8 n d bytes (the scaled copy) + O(n + k d).  Time:
 * seeding O(restarts n k d log k); Lloyd O(n k d) per iteration, Hamerly
 * usually far less; mini-batch O(batch k d) per step plus one pass;
 * choosing k adds one fit per k tried and O(s^2 (d + ks)) for a silhouette
 * sample of s rows and ks values of k.
 */
cvm_status cvm_kmeans_fit(cvm_ctx_t *ctx,
                          const double *x,
                          size_t n,
                          size_t d,
                          const cvm_kmeans_options_t *opt,
                          cvm_kmeans_result_t *out);

/**
 * @brief Clusters the rows of a table on the named columns (DOUBLE: NaN is
 * missing; INT64: null is missing).  As cvm_kmeans_fit() otherwise.
 * Ownership: t, cols and opt are borrowed.
 * Errors: CVM_ENOTFOUND (no such column), CVM_EINVAL (a column of another
 * type, no columns), and those of cvm_kmeans_fit().
 */
cvm_status cvm_kmeans_fit_table(cvm_ctx_t *ctx,
                                const cvm_table_t *t,
                                const char *const *cols,
                                size_t ncols,
                                const cvm_kmeans_options_t *opt,
                                cvm_kmeans_result_t *out);

/**
 * @brief Mean silhouette of a labelling over a sample of rows (all rows
 * when sample is 0 or >= n): for each sampled row, a = mean distance to
 * the other sampled rows of its cluster, b = the lowest mean distance to
 * another cluster's sampled rows, s = (b - a) / max(a, b) (0 for a row
 * alone in its cluster).  Euclidean distances on x as given (no scaling,
 * no missing values).  The sample is drawn from seed.
 * Ownership: x and labels are borrowed.
 * Errors: CVM_EINVAL (NULL arguments, a label outside 0..k-1, fewer than
 * two clusters present in the sample), CVM_ENOMEM.
 * Complexity: O(s^2 d) time, O(s k) memory for s sampled rows.
 */
cvm_status cvm_kmeans_silhouette(cvm_ctx_t *ctx,
                                 const double *x,
                                 size_t n,
                                 size_t d,
                                 const int32_t *labels,
                                 int k,
                                 size_t sample,
                                 uint64_t seed,
                                 int threads,
                                 double *out);

/* ==== Profiles and names ==== */

typedef struct {
    /* Features whose z-scores may name a cluster (NULL: all profiled). */
    const char *const *name_features;
    size_t n_name_features;
    double min_z;  /* a feature names a cluster only if |z| >= this (0.5) */
    int max_terms; /* terms per name (3) */
    int threads;   /* 0: OpenMP's default */
} cvm_kmeans_profile_options_t;

/** @brief Fills *o with the defaults above. */
void cvm_kmeans_profile_options_init(cvm_kmeans_profile_options_t *o);

/**
 * Cluster profile.  Initialise with cvm_kmeans_profile_init(); every
 * array and string belongs to it (cvm_kmeans_profile_destroy()).
 */
typedef struct {
    int k;
    size_t nfeat;
    char **feature;   /* nfeat column names */
    char **zh;        /* nfeat Chinese names (the feature dictionary's;
                         the column name for other columns) */
    double *pop_mean; /* nfeat: mean of the observed values */
    double *pop_std;  /* nfeat: their population standard deviation */
    double *mean;     /* k x nfeat: the cluster's mean (observed) */
    double *z;        /* k x nfeat: (mean - pop_mean) / pop_std; 0 for a
                         constant feature, NaN if the cluster has no
                         observed value */
    int64_t *size;    /* k: rows per cluster */
    char **name;      /* k: English name, e.g. "heavy data, light voice"
                         ("average" when nothing stands out) */
    char **name_zh;   /* k: Chinese name, e.g. "高流量、低语音" */
} cvm_kmeans_profile_t;

void cvm_kmeans_profile_init(cvm_kmeans_profile_t *p);
/** @brief Frees p's arrays and re-initialises it; NULL is a no-op. */
void cvm_kmeans_profile_destroy(cvm_kmeans_profile_t *p);

/**
 * @brief Profiles clusters on the named columns of t (DOUBLE or INT64;
 * NaN, +-inf and nulls are left out of the means) and names them.
 * A name takes, in order of |z|, up to max_terms naming features with
 * |z| >= min_z, each as a phrase ("heavy data" for z > 0, "light data"
 * for z < 0); features of the feature dictionary have hand-written
 * phrases, others "high X" / "low X"; a phrase already used in the name
 * is skipped.  Clusters that would share a name get more terms, then a
 * number.
 * @param labels n = cvm_table_nrows(t) cluster labels in 0..k-1.
 * @param out initialised by the caller, filled here (re-initialised on
 *        error).
 * Ownership: t, cols, labels and opt are borrowed (opt may be NULL: the
 * defaults); strings are copied.
 * Errors: CVM_ENOTFOUND (no such column), CVM_EINVAL (a column of another
 * type, a label out of range, k < 1), CVM_ENOMEM.
 */
cvm_status cvm_kmeans_profile(cvm_ctx_t *ctx,
                              const cvm_table_t *t,
                              const char *const *cols,
                              size_t ncols,
                              const int32_t *labels,
                              int k,
                              const cvm_kmeans_profile_options_t *opt,
                              cvm_kmeans_profile_t *out);

/**
 * @brief The default features for clustering a wide table: about twenty
 * behaviour features of the dictionary (usage, ARPU, data, tenure,
 * trends), NULL-terminated (borrowed, static).
 */
const char *const *cvm_kmeans_default_features(size_t *n);

/* ==== Runs: fit, profile, summary; the month's clusters in the store ==== */

/**
 * A fit with its profile.  Initialise with cvm_kmeans_run_init(); every
 * array and string belongs to it (cvm_kmeans_run_destroy()).
 */
typedef struct {
    cvm_kmeans_options_t opt;     /* the options of the fit (init, progress
                                     and progress_ud cleared) */
    cvm_kmeans_result_t fit;      /* labels, centers, inertia, ... */
    cvm_kmeans_profile_t profile; /* the profiled columns, in table order */
    char **features;              /* fit.d clustered columns, in order (patterns
                                     expanded) */
    unsigned char *used;    /* profile.nfeat: 1 if the column was clustered
                               on (only those name a cluster) */
    int64_t *subscriber_id; /* store runs: fit.n ids, row by row; else NULL */
    char month[8];          /* store runs: "YYYY-MM"; else "" */
    char tables[3][48];     /* store runs: the rows, profile and clusters
                               tables written; else "" */
} cvm_kmeans_run_t;

void cvm_kmeans_run_init(cvm_kmeans_run_t *r);
/** @brief Frees r's arrays and re-initialises it; NULL is a no-op. */
void cvm_kmeans_run_destroy(cvm_kmeans_run_t *r);

/**
 * @brief Clusters the rows of t, then profiles and names the clusters.
 * @param features column names or glob patterns (`*`, `?`, `[...]`, as
 *        fnmatch(3)); a pattern stands for every numeric (DOUBLE or INT64)
 *        column but id that it matches, in table order, less those already
 *        listed.  NULL or nfeatures 0: every DOUBLE column but id.
 * @param id an identifier column, never clustered by default nor profiled
 *        by profile_all (NULL: none).
 * @param profile_all 0: profile the clustered columns; 1: every numeric
 *        column but id too (names still come from the clustered ones).
 * @param opt as cvm_kmeans_fit() (NULL: the defaults).
 * @param out initialised by the caller, filled here (re-initialised on
 *        error).
 * Ownership: t, features, id and opt are borrowed; strings are copied.
 * Errors: CVM_ENOTFOUND (no such column, a pattern that matches no numeric
 * column), CVM_EINVAL (a name listed twice, no features, a column of
 * another type), and those of cvm_kmeans_fit() and cvm_kmeans_profile().
 */
cvm_status cvm_kmeans_run_table(cvm_ctx_t *ctx,
                                const cvm_table_t *t,
                                const char *const *features,
                                size_t nfeatures,
                                const char *id,
                                int profile_all,
                                const cvm_kmeans_options_t *opt,
                                cvm_kmeans_run_t *out);

/**
 * @brief The indexes into run->profile of the clustered features of
 * cluster c with the largest |z|, largest first (NaN z left out), into
 * idx[0..ntop).  Returns how many (fewer than ntop if fewer are finite).
 */
size_t cvm_kmeans_run_distinctive(const cvm_kmeans_run_t *run,
                                  int c,
                                  size_t ntop,
                                  size_t *idx);

/**
 * @brief The summary JSON of a run (docs/clusters.md, "Outputs"): inputs,
 * fit, imputations, for a store run the tables, and per cluster its size,
 * names, center and its top most distinctive clustered features.
 * @param data the source named as "data" (a CSV path); NULL: "month" from
 *        run->month (a store run).
 * Ownership: *out for the caller (cvm_free()).  Errors: CVM_EINVAL (NULL
 * arguments), CVM_ENOMEM.
 */
cvm_status cvm_kmeans_summary_json(const cvm_kmeans_run_t *run,
                                   const char *data,
                                   size_t top,
                                   char **out);

/**
 * @brief The clusters of a month's subscribers: loads the wide table
 * features_YYYY_MM (building it first, with the default window, if it is
 * not in the store), clusters it on the features (NULL or 0: those of
 * cvm_kmeans_default_features(); names or patterns as in
 * cvm_kmeans_run_table()), profiles every numeric column of the wide
 * table, and writes the tables segments_kmeans_YYYY_MM (subscriber_id,
 * cluster, distance), segments_kmeans_profile_YYYY_MM (cluster x profiled
 * feature) and segments_kmeans_clusters_YYYY_MM (sizes, names), each
 * replaced, and the summary as result "segment_kmeans" of the month in
 * cvm_results (5 distinctive features per cluster).
 * @param summary_json optional: the summary (cvm_free()).
 * Errors go to the store's context: those of cvm_churn_ensure_features(),
 * cvm_features_load(), cvm_kmeans_run_table() and the store writes.
 * Complexity: the wide table in memory, plus the fit's.
 */
cvm_status cvm_kmeans_run_store(cvm_store_t *s,
                                int32_t month,
                                const char *const *features,
                                size_t nfeatures,
                                const cvm_kmeans_options_t *opt,
                                char **summary_json);

/**
 * @brief As cvm_kmeans_run_store(), with top distinctive features per
 * cluster in the summary, and the run itself in *run when run is not NULL
 * (initialised by the caller; its tables, month and subscriber_id set).
 */
cvm_status cvm_kmeans_run_store_ex(cvm_store_t *s,
                                   int32_t month,
                                   const char *const *features,
                                   size_t nfeatures,
                                   const cvm_kmeans_options_t *opt,
                                   size_t top,
                                   cvm_kmeans_run_t *run,
                                   char **summary_json);

/** @brief "z", "robust", "none". Never NULL. */
const char *cvm_kmeans_scale_name(cvm_kmeans_scale s);
/** @brief Parses "z", "robust", "none". Errors: CVM_EINVAL. */
cvm_status cvm_kmeans_scale_parse(const char *s, cvm_kmeans_scale *out);
/** @brief "hamerly", "lloyd", "minibatch". Never NULL. */
const char *cvm_kmeans_algorithm_name(cvm_kmeans_algorithm a);

#ifdef __cplusplus
}
#endif
#endif
