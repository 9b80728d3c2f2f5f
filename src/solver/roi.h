/*
 * Faces in the solver (roi.c): found on the sample, weighed in the choice.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_SOLVER_ROI_H
#define SH_SOLVER_ROI_H

#include "solver/search.h"

/* The regions' strength when nothing was measured (--roi faces without a search). */
#define SH_ROI_STRENGTH_UNMEASURED 0.10

/* Look for faces on the sample (opt->roi not off): s->faces when any is
 * found; the report says what was found or why nothing was looked for. */
int sh_solver_find_faces(ShSample *s, const ShInputInfo *info, const ShSolverOptions *opt, ShSolverReport *rep);

/* A measurement's face SSIM dB moved to the candidate's budget (0: none scored). */
double sh_solver_face_at_budget(const ShCandidate *c, const ShMeasure *m, const double slope[SH_Q_N]);

/* After calibration: regions on where they win (see roi.c); *best may move
 * to another calibrated candidate, whose roi_strength is then set. */
int sh_solver_choose_roi(Search *s, const ShSolverOptions *opt, int *best);

#endif
