/*
 * The solver's search, between its files (not public):
 *   solver.c  the search over the grid, the codec choice, calibration, sh_solver_plan
 *   model.c   the rate model (setting -> bitrate) and the quality prediction
 *   rungs.c   measuring rungs on the sample, several at once
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_SOLVER_SEARCH_H
#define SH_SOLVER_SEARCH_H

#include "solver/measure.h"
#include "solver/plan.h"
#include "solver/sample.h"

/* Slopes (per doubling of the bitrate) until a rung has two points of its own:
 * SSIM dB (the score, spatial and temporal alike), PSNR. */
#define SH_SLOPE_SSIM_DB 1.2
#define SH_SLOPE_PSNR 2.0
/* x264's rate halves about every 6 CRF steps. */
#define SH_CRF_PER_OCTAVE 6.0
/* Rungs measured at once, at most. */
#define SH_SEARCH_BATCH 8

typedef struct Search {
    const ShSample *sample;
    const ShEncoderDesc *enc;
    const ShInputInfo *info;
    ShPlan *plan;
    ShSolverReport *rep;
    /* rate model: log2(bps) = a + 0.75 log2(pixels) + 0.6 log2(fps) - crf / 6;
     * pixels cost less than linearly, frames even less (fewer frames are
     * further apart and predict each other worse). a starts from a prior
     * measured here on film content with x264 veryfast, then learns. */
    double a_sum;
    int a_n;
    /* CRF steps per halving of the rate: 6 in x264's mid range, but nearer
     * 3.5 at the high settings tiny budgets need; learned from the rungs
     * measured twice, so second guesses land nearer. */
    double slope_sum;
    int slope_n;
    double crf_mid;           /* mean setting measured so far */
    int speed;                /* ShSpeed */
    int timed;                /* final-preset encodes run alone and are timed (a time budget) */
    const ShEncoderDesc *refused; /* the last encoder whose limits ruled a rung out, logged */
} Search;

/* One rung to measure: the worker fills c and m, touching nothing shared. */
typedef struct RungJob {
    const Search *s;
    const ShEncoderDesc *enc;
    ShRung rung;
    double crf;               /* the first encode's setting */
    double slope;             /* CRF steps per octave for the second guess */
    int final;                /* one encode at crf (calibration) with the final preset, */
    int quick;                /* ... or the quick one */
    int timed;                /* alone, so that its speed is measured (no other job beside it) */
    double roi;               /* > 0: the sample's face regions to the encoder at this strength */
    ShCandidate c;
    ShMeasure m[3];
    int nm;
    int ret;
} RungJob;

/* model.c */
/* SSIM dB a slower encoder must gain to be chosen at this --speed. */
double sh_solver_time_cost_db(const ShEncoderDesc *enc, int speed);
/* CRF steps per halving of the rate, learned (the prior counts as one). */
double sh_solver_crf_slope(const Search *s);
/* The setting the rate model says gives the rung bps. */
double sh_solver_crf_for(const Search *s, const ShRung *r, double bps);
/* Learn from a measurement of the search's encoder. */
void sh_solver_learn(Search *s, const ShRung *r, const ShMeasure *m);
void sh_solver_learn_slope(Search *s, const ShCandidate *c);
/* A measurement's values, indexed SH_Q_*. */
void sh_solver_measure_q(const ShMeasure *m, double q[SH_Q_N]);
/* Median quality slopes (per doubling of the rate, SH_Q_*) of the rungs measured twice. */
void sh_solver_slopes(const ShSolverReport *rep, double slope[SH_Q_N]);
/* Octaves to move a measurement made at crf towards the budget (capped upwards). */
double sh_solver_step_up(double d, double crf);
/* A measurement at one setting moved to the candidate's budget along the slopes (SH_Q_*). */
void sh_solver_at_budget(const ShCandidate *c, const ShMeasure *m, const double slope[SH_Q_N], double q[SH_Q_N]);
/* Whether a with quality qa (SH_Q_*: its prediction or calibration) beats b with
 * qb: by the score (counted up to visually lossless) less the speed cost; ties
 * to the most frames, then pixels. */
int sh_solver_better(const ShCandidate *a, const double qa[SH_Q_N], const ShCandidate *b, const double qb[SH_Q_N]);
/* What sh_solver_better compares first: the score counted up to visually lossless, less the speed cost. */
double sh_solver_rank(const ShCandidate *c, const double q[SH_Q_N]);
/* Predict every candidate at its budget; the best feasible one (after its speed cost), -1: none. */
int sh_solver_best_candidate(ShSolverReport *rep);
/* The setting that gives a candidate its budget, from its own measurements. */
double sh_solver_crf_at(const Search *s, const ShCandidate *c);

/* solver.c */
/* The rung of a display height at a frame rate. */
ShRung sh_solver_rung_at(const ShInputInfo *info, int display_h, AVRational fps);

/* rungs.c */
/* One encode of candidate c at the setting that gives its budget (calibration):
 * the final preset, or the quick one; timed: alone, its speed measured. */
void sh_solver_final_job(RungJob *jb, const Search *s, const ShCandidate *c, int quick, int timed);
/* Run the jobs, on up to one thread per core. */
void sh_solver_run_jobs(RungJob *jobs, int n);
/*
 * Measure n rungs (each with its encoder) that are not measured yet, at
 * once. idx[i] is the candidate's index, or a negative error (ERANGE: the
 * encoder cannot make that picture, or the rate leaves it nothing).
 */
void sh_solver_measure_rungs(Search *s, const ShEncoderDesc *const *encs, const ShRung *rungs, int n, int *idx);

/* timing.c */
/*
 * With a time budget (long inputs): the candidate and preset with the best
 * quality among those whose predicted time fits, after measuring the
 * chosen encoder's speed and a smaller picture or two. *best and the
 * report's expected time, budget and preset are set.
 */
int sh_solver_fit_time(Search *s, const ShSolverOptions *opt, double t0, int *best);

#endif
