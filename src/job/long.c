/*
 * Long inputs (issue 20, docs/LONG.md): the film decoded once and encoded
 * as a sequence of stretches of about a minute, each its own encoder
 * session opening with a keyframe, under one budget for the whole film.
 * When a stretch is done its real bytes are known and what is left is split
 * again over the stretches to come, so an encoder's error on one stretch is
 * paid by the next ones instead of by encoding the whole film again. The
 * stretch files are then joined without re-encoding (chunk/join.c, as
 * scale-out's chunks), and the job verifies and renames the result as any.
 *
 *   decode --> fps --> scale --> stretch cache --> [pass 1] pass 2 --> stretch file
 *          \-> resample --> Opus --> audio packets --> audio file ------------\
 *   stretch files + audio file --> join --> (job.c) verify --> rename
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/imgutils.h>
#include <libavutil/mathematics.h>

#include "chunk/chunk.h"
#include "common/log.h"
#include "common/temp.h"
#include "common/tmpspace.h"
#include "job/chain.h"
#include "job/job.h"
#include "job/long.h"
#include "job/profile.h"
#include "job/state.h"
#include "output/mux.h"
#include "output/overhead.h"

/* Where the whole file should land, of the target: the last stretch takes up
 * the error of the others, so the band is narrow. */
#define SH_LONG_AIM 0.99
/* A stretch over its share by this much is encoded again (a 60th of the film). */
#define SH_LONG_REDO_OVER 1.10
/* The last stretch: encoded again while the file would be over this share of the
 * target, or (once) under the floor when it made less than its budget. */
#define SH_LONG_LAST_CEIL 0.997
#define SH_LONG_LAST_FLOOR 0.98
#define SH_LONG_MAX_TRIES 3

typedef struct Stretch {
    int64_t start, end;       /* video_tb: its first frame, the next stretch's first (the film's end) */
    int64_t frames;
    int64_t budget;           /* video bytes it was given */
    int64_t bitrate;          /* what it was encoded at, last */
    int64_t video_bytes;      /* its packets */
    int cached;               /* its pictures were kept (L->cache, until the next cached one) */
    char path[PATH_MAX];
} Stretch;

typedef struct Long {
    Job *j;
    ShStage *vchain[2];
    ShFrameCache *cache;      /* the stretch being decoded */
    int video_ended;
    int two_pass;
    double step;              /* seconds a stretch */
    int nplanned;
    ShSourceProfile prof;     /* the source's bytes over time, one decode's time */
    int n;                    /* stretches encoded */
    Stretch *s;               /* nplanned of them */
    int64_t next_start;       /* video_tb: where the next stretch starts */
    double drift;             /* bytes made / bytes asked, smoothed over the stretches done */
    int64_t video_bytes;      /* of the stretches done */
    int64_t frames;           /* output frames so far */
    double redo_seconds;      /* of film encoded again */
    int encodes;              /* stretch encodes made */
    ShEncodeRun *run;         /* the stretch being fed: its encoder and file */
    Attempt cur;              /* ... that file */
    int cached;               /* its pictures are kept too (L->cache) */
    int cache_of;             /* the stretch L->cache holds */
    int64_t stretch_frames;
    double t_open;            /* when it opened */
} Long;

/*
 * Seconds a stretch: a minute, less where a minute of pictures would not fit
 * the temporary disk's bound (the cache spills there). SHRINK_STRETCH sets it,
 * and then any film of two stretches or more is encoded so (tests, tuning).
 */
static double stretch_seconds(const Job *j, int *forced)
{
    const char *e = getenv("SHRINK_STRETCH");
    double v = e ? atof(e) : 0, step = v >= 1 ? v : SH_LONG_STRETCH_SECONDS;
    double frame_bytes = av_image_get_buffer_size(sh_job_video_pix_fmt(j), j->rung.width, j->rung.height, 1);
    double fit = 0.9 * j->disk.cache_limit / FFMAX(frame_bytes * av_q2d(j->rung.fps), 1);
    *forced = v >= 1;
    return FFMIN(step, fit);
}

int sh_job_long_wanted(const Job *j)
{
    const ShEncoderDesc *d = j->plan.venc;
    double step;
    int forced;
    if (!d || !(d->caps & SH_ENC_CAP_JOINS_CHUNKS) || strcmp(j->format->muxer, "mp4") ||
        j->plan.at_floor || j->plan.video_bitrate <= 0)
        return 0;
    step = stretch_seconds(j, &forced);
    if (forced)
        return step >= 1 && j->info->duration >= 2 * step;
    /* Each stretch opens with a keyframe and its own rate control: shorter ones, or
     * fewer frames than the encoder's own keyframe interval (a film at a frame a
     * second and less, at starved budgets), or a few kb/s, would spend on keyframes
     * and blind starts what the whole film's one encode gives the pictures. */
    return j->info->duration >= SH_LONG_MIN_SECONDS && step >= SH_LONG_MIN_STRETCH &&
           step * av_q2d(j->rung.fps) >= SH_LONG_MIN_FRAMES && j->plan.video_bitrate >= SH_LONG_MIN_BITRATE;
}

/* ---- the budget ---- */

/*
 * The joined MP4's bytes beyond its packets: the join writes a second of
 * each track at a time, so its index is sh_budget_overhead's (H.264 with
 * B-frames) less what this codec does not have; no packet-by-packet
 * interleaving (output/overhead.h).
 */
static int64_t join_overhead(const Job *j, int64_t frames, int64_t audio_packets)
{
    return sh_budget_overhead(frames, audio_packets) +
           sh_mp4_overhead_correction(frames, audio_packets, j->plan.venc->codec) -
           sh_mp4_interleave_overhead(frames, audio_packets);
}

/* The start of planned stretch k, in seconds from the origin. */
static double planned_start(const Long *L, int k)
{
    return k >= L->nplanned ? L->j->info->duration : k * L->step;
}

/*
 * Video bytes for the stretch [a, b) seconds: what the target leaves after
 * the audio (what is encoded, extrapolated to the film), the joined
 * container and the stretches done, split by weight over it and the
 * stretches still to come.
 */
static int64_t stretch_budget(const Long *L, double a, double b, int last)
{
    const Job *j = L->j;
    double dur = FFMAX(j->info->duration, b), w = sh_profile_weight(&L->prof, a, b), rest = 0;
    int64_t audio = 0, frames, left;
    if (j->plan.aenc) {
        int64_t n = j->audio ? sh_spool_count(j->audio) : 0, pts = 0, d = 0;
        if (n)
            sh_spool_info(j->audio, n - 1, &pts, NULL, &d, NULL, NULL);
        double t = n ? (pts + d) * av_q2d(j->atb) : 0;
        audio = t >= dur - 0.5 ? sh_spool_bytes(j->audio)
              : t > 1 ? (int64_t)(sh_spool_bytes(j->audio) * dur / t)
              : (int64_t)(j->plan.audio.bitrate * dur / 8);
    }
    frames = (int64_t)((L->frames + 1.0) * dur / FFMAX(b, 1e-3));
    left = (int64_t)(j->plan.target_bytes * SH_LONG_AIM) - audio - sh_subs_bytes(j->subs) -
           join_overhead(j, frames, j->plan.aenc ? (int64_t)(dur * 1000 / FFMAX(j->plan.audio.frame_ms, 1)) : 0) -
           L->video_bytes;
    for (int k = L->n + 1; !last && k < L->nplanned; k++)
        rest += sh_profile_weight(&L->prof, FFMAX(planned_start(L, k), b), planned_start(L, k + 1));
    return left <= 0 || !(w > 0) ? 0 : (int64_t)(left * w / (w + rest));
}

/* ---- one stretch ---- */

static int open_cache(Long *L)
{
    Job *j = L->j;
    int ret;
    sh_frame_cache_free(&L->cache);
    if ((ret = sh_frame_cache_open(&L->cache, j->rung.width, j->rung.height, sh_job_video_pix_fmt(j),
                                   SH_CACHE_MEM_LIMIT)) < 0)
        return ret;
    sh_frame_cache_set_disk_limit(L->cache, j->disk.cache_limit, SH_CACHE_FULL_REFUSE);
    return 0;
}

/* The bitrate for bytes over secs at the drift measured so far. */
static int64_t rate_for(const Long *L, int64_t bytes, double secs)
{
    int64_t b = (int64_t)(bytes * 8 / FFMAX(secs, 1e-3) / L->drift);
    return av_clip64(sh_encoder_clamp_bitrate(L->j->plan.venc, b), 1000, INT64_MAX);
}

/* What the whole file comes to with the stretches done (exact once the audio is). */
static int64_t projected_bytes(const Long *L)
{
    const Job *j = L->j;
    int64_t apk = j->audio ? sh_spool_count(j->audio) : 0;
    return L->video_bytes + (j->audio ? sh_spool_bytes(j->audio) : 0) + sh_subs_bytes(j->subs) +
           join_overhead(j, L->frames, apk);
}

/*
 * A cached stretch's pictures again (pass 2, or a stretch encoded again) at
 * s->bitrate into s->path; pass1: a two-pass encoder's pass 1 first (its
 * log holds for any bitrate, not for another preset).
 */
static int encode_cached(Long *L, Stretch *s, int pass1)
{
    Job *j = L->j;
    Attempt at = { .bitrate = s->bitrate }, p1 = { .bitrate = s->bitrate };
    ShFrameSource *src = NULL;
    const int64_t origin = j->origin, end_pts = j->end_pts;
    int too_low = 0, ret;
    /* Its own file starts at 0 (the join moves it to its place) and its last frame lasts to its end. */
    j->origin = s->start;
    j->end_pts = s->end;
    ret = sh_source_from_cache(&src, L->cache);
    if (ret >= 0 && pass1 && L->two_pass && (ret = sh_job_attempt(j, &p1, src, &j->rung, 0, 1, -1, &too_low)) >= 0)
        sh_temp_remove(p1.path);
    if (ret >= 0)
        ret = sh_job_attempt(j, &at, src, &j->rung, 0, L->two_pass ? 2 : 0, -1, &too_low);
    j->origin = origin;
    j->end_pts = end_pts;
    sh_source_free(&src);
    if (too_low) {
        sh_log(SH_LOG_ERROR, j->input, "%s refuses %lld b/s for the stretch at %.0f s", j->plan.venc->name,
               (long long)s->bitrate, (s->start - origin) * av_q2d(j->info->video_tb));
        return SH_ERROR_TARGET_TOO_SMALL;
    }
    if (ret < 0)
        return ret;
    if (s->path[0])
        sh_temp_remove(s->path);
    memcpy(s->path, at.path, sizeof(s->path));
    s->video_bytes = at.video_bytes;
    L->encodes++;
    return 0;
}

/* Stretch k again from its cache, to want video bytes from what it made at its last bitrate. */
static int reencode(Long *L, int k, int64_t want)
{
    Stretch *s = &L->s[k];
    if (!s->cached || L->cache_of != k)
        return AVERROR(ERANGE);    /* (a film cut short: its last stretch was not the planned last) */
    sh_log(SH_LOG_VERBOSE, L->j->input, "stretch %d: %lld bytes for %lld: again", k + 1,
           (long long)s->video_bytes, (long long)want);
    s->bitrate = av_clip64((int64_t)((double)s->bitrate * want / FFMAX(s->video_bytes, 1)), 1000, INT64_MAX);
    L->redo_seconds += (s->end - s->start) * av_q2d(L->j->info->video_tb);
    return encode_cached(L, s, 0);
}

/*
 * A stretch opens at its first frame: its share of what is left, its
 * encoder (pass 1 for a two-pass one, else the only pass) fed as the decode
 * goes, and a cache of its pictures where they will be read again: a
 * two-pass encoder's pass 2, the first stretch (timed, and encoded again at
 * the quick preset if the film would take too long: encode_stretch), the
 * last (held to the target).
 */
static int open_stretch(Long *L, int64_t start)
{
    Job *j = L->j;
    Stretch *s = &L->s[L->n];
    const int last = L->n == L->nplanned - 1;
    double a = (start - j->origin) * av_q2d(j->info->video_tb), b = planned_start(L, L->n + 1);
    int too_low = 0, ret;

    s->start = start;
    L->next_start = j->origin + llrint(b / av_q2d(j->info->video_tb));
    s->budget = stretch_budget(L, a, FFMAX(b, a + 1e-3), last);
    if (s->budget <= 0) {
        sh_log(SH_LOG_ERROR, j->input, "the target leaves nothing for the video from %.0f s on", a);
        return SH_ERROR_TARGET_TOO_SMALL;
    }
    s->bitrate = rate_for(L, s->budget, b - a);
    L->cached = s->cached = L->two_pass || last || L->n == 0;
    if (!L->cached)
        sh_frame_cache_free(&L->cache);
    else if ((ret = open_cache(L)) < 0)
        return ret;
    L->cache_of = L->n;
    memset(&L->cur, 0, sizeof(L->cur));
    L->cur.bitrate = s->bitrate;
    if ((ret = sh_job_run_open(j, &L->run, &L->cur, &j->rung, 0, L->two_pass, -1, start, &too_low)) < 0) {
        sh_job_run_free(&L->run, &L->cur, 1);
        if (too_low) {
            sh_log(SH_LOG_ERROR, j->input, "%s refuses %lld b/s for the stretch at %.0f s", j->plan.venc->name,
                   (long long)s->bitrate, a);
            ret = SH_ERROR_TARGET_TOO_SMALL;
        }
        return ret;
    }
    L->t_open = sh_now();
    return 0;
}

/*
 * The time budget: the first stretch, timed (decode and encode together,
 * as the rest will run), says how long the job will take. Past the budget
 * (SH_LONG_TIME_BUDGET decodes, measured before the search: plan.c), and
 * past the solver's own prediction by a third where it chose to go over
 * for the quality, every stretch gets the encoder's quick preset, the
 * first one again from its cache. Returns whether it switched.
 */
#define SH_LONG_TIME_SLACK 1.33

static int choose_preset(Long *L, double seconds, double film_s)
{
    Job *j = L->j;
    double per_s = seconds / FFMAX(film_s, 1e-3);
    double expect = sh_now() - j->t0 + per_s * FFMAX(j->info->duration - film_s, 0);
    double allowed = FFMAX(j->time_budget, SH_LONG_TIME_SLACK * j->search.expected_seconds);
    if (j->fast_preset || !(j->time_budget > 0))
        return 0;
    sh_log(SH_LOG_VERBOSE, j->input, "time: the first stretch took %.1f s for %.0f s of film: about %.0f s in all "
           "(predicted %.0f s; one decode about %.0f s, the budget %.0f s)", seconds, film_s, expect,
           j->search.expected_seconds, j->decode_seconds, j->time_budget);
    if (expect <= allowed)
        return 0;
    j->fast_preset = 1;
    sh_log(SH_LOG_VERBOSE, j->input, "time: over, so %s's quick preset for every stretch", j->plan.venc->name);
    return 1;
}

/*
 * The stretch being fed ends at end (video_tb): its encoder finished (pass 2
 * from the cache for a two-pass one); again when far over its share, and
 * the last one again while the file would be over the target's ceiling (or,
 * once, far under it).
 */
static int encode_stretch(Long *L, int64_t end, int last)
{
    Job *j = L->j;
    Stretch *s = &L->s[L->n];
    const AVRational tb = j->info->video_tb;
    double a = (s->start - j->origin) * av_q2d(tb), b = (end - j->origin) * av_q2d(tb), secs = b - a;
    int ret;

    s->end = end;
    s->frames = L->stretch_frames;
    ret = sh_job_run_finish(j, L->run, &L->cur, end);
    sh_job_run_free(&L->run, &L->cur, ret < 0);
    if (ret < 0)
        return ret;
    if (L->two_pass) {
        sh_temp_remove(L->cur.path);
        if ((ret = encode_cached(L, s, 0)) < 0)
            return ret;
    } else {
        memcpy(s->path, L->cur.path, sizeof(s->path));
        s->video_bytes = L->cur.video_bytes;
        L->encodes++;
    }
    if (L->n == 0 && choose_preset(L, sh_now() - L->t_open, secs) && (ret = encode_cached(L, s, 1)) < 0)
        return ret;
    for (int tries = 1; L->cached && tries < SH_LONG_MAX_TRIES; tries++) {
        int64_t total = projected_bytes(L) + s->video_bytes, want;
        if (last && total > j->plan.target_bytes * SH_LONG_LAST_CEIL)
            want = s->video_bytes - (total - (int64_t)(j->plan.target_bytes * SH_LONG_AIM));
        else if (last && tries == 1 && total < j->plan.target_bytes * SH_LONG_LAST_FLOOR &&
                 s->video_bytes < s->budget * 0.9)
            want = s->video_bytes + ((int64_t)(j->plan.target_bytes * SH_LONG_AIM) - total);
        else if (!last && s->video_bytes > s->budget * SH_LONG_REDO_OVER)
            want = s->budget;
        else
            break;
        if (want <= 0)
            break;    /* the join says whether it fits */
        if ((ret = reencode(L, L->n, want)) < 0)
            return ret;
    }
    {
        double ratio = (double)s->video_bytes * 8 / FFMAX(secs, 1e-3) / s->bitrate;
        L->drift = L->n ? 0.6 * L->drift + 0.4 * ratio : ratio;
    }
    L->video_bytes += s->video_bytes;
    sh_log(SH_LOG_VERBOSE, j->input, "stretch %d/%d (%.0f-%.0f s) at %lld b/s: %lld bytes of %lld (drift %.3f)",
           L->n + 1, L->nplanned, a, b, (long long)s->bitrate, (long long)s->video_bytes, (long long)s->budget,
           L->drift);
    L->n++;
    return 0;
}

/* Each frame out of the chain: it closes the stretch before it when it opens the next one. */
static int long_frame(void *arg, AVFrame *f)
{
    Long *L = arg;
    Job *j = L->j;
    int ret;
    if (L->video_ended)
        return 0;
    L->video_ended = !f;
    if (!f)
        return L->run ? encode_stretch(L, sh_input_stats(j->in)->end_pts, 1) : 0;
    if (L->run && f->pts >= L->next_start && L->n + 1 < L->nplanned && (ret = encode_stretch(L, f->pts, 0)) < 0)
        return ret;
    if (!L->run) {
        L->stretch_frames = 0;
        if ((ret = open_stretch(L, f->pts)) < 0)
            return ret;
    }
    if (L->cached && (ret = sh_frame_cache_put(L->cache, f)) < 0)
        return sh_tmp_write_failed("frame cache", ret);
    L->frames++;
    L->stretch_frames++;
    sh_job_progress(j, "encode", (f->pts - j->origin) * av_q2d(j->info->video_tb) / j->info->duration,
                    L->video_bytes + sh_job_run_video_bytes(L->run));
    return sh_job_run_send(j, L->run, f);
}

static int long_video(void *arg, AVFrame *decoded, AVFrame *tmp)
{
    Long *L = arg;
    int ret = sh_job_faces_frame(L->j, decoded);
    return ret < 0 ? ret : sh_chain_run(L->vchain, 2, decoded, tmp, L->j->input, long_frame, L);
}

/* ---- the join ---- */

/* The kept audio packets into their own file for the join, cut at the video's end;
 * the subtitle tracks, chapters and title (job/subs.c) with them. */
static int write_audio(Job *j, const char *path)
{
    ShMuxer *mx = NULL;
    ShSubsCursor sc;
    AVPacket *pkt = av_packet_alloc();
    int64_t end = j->apar ? av_rescale_q(j->end_pts - j->origin, j->info->video_tb, j->atb) : 0;
    int ret, st = -1;

    if (!pkt) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if ((ret = sh_mux_open(&mx, path, "mp4")) < 0 ||
        (j->apar && (ret = st = sh_mux_add_stream(mx, j->apar, j->atb, NULL)) < 0) ||
        (ret = sh_subs_mux_setup(j->subs, mx, &sc)) < 0 || (ret = sh_mux_write_header(mx)) < 0 ||
        (j->apar && (ret = sh_spool_rewind(j->audio)) < 0))
        goto end;
    for (int64_t i = 0; j->apar && i < sh_spool_count(j->audio); i++) {
        if ((ret = sh_spool_get(j->audio, pkt)) < 0 ||
            (ret = sh_subs_mux_until(j->subs, mx, &sc, av_rescale_q(pkt->pts, j->atb, (AVRational){ 1, 1000 }))) < 0)
            goto end;
        ret = pkt->pts < end ? sh_mux_write(mx, st, pkt) : 0;
        av_packet_unref(pkt);
        if (ret < 0)
            goto end;
    }
    if ((ret = sh_subs_mux_until(j->subs, mx, &sc, INT64_MAX)) < 0)
        goto end;
    ret = sh_mux_finish(mx);
end:
    if (ret < 0)
        j->output_failed = 1;
    sh_mux_free(&mx);
    av_packet_free(&pkt);
    return ret;
}

static int join(Long *L, Attempt *best, const char *audio_path)
{
    Job *j = L->j;
    ShChunkPlan p = { 0 };
    ShChunkJoinResult jr = { 0 };
    char **files = av_calloc(L->n, sizeof(*files));
    int ret;

    if (!files || !(p.chunks = av_calloc(L->n, sizeof(*p.chunks)))) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    p.target_bytes = j->plan.target_bytes;
    snprintf(p.codec, sizeof(p.codec), "%s", j->plan.venc->codec);
    p.width = j->rung.width;
    p.height = j->rung.height;
    p.fps = j->rung.fps;
    p.video_tb = j->info->video_tb;
    p.video_start = j->origin;
    p.duration = j->duration;
    p.nchunks = L->n;
    for (int k = 0; k < L->n; k++) {
        p.chunks[k] = (ShChunk){ .start = L->s[k].start, .end = L->s[k].end, .frames = L->s[k].frames,
                                 .budget = INT64_MAX };
        files[k] = L->s[k].path;
    }
    ret = sh_chunk_join_write(&p, files, audio_path, best->path, &jr);
    best->bytes = jr.bytes;
end:
    sh_chunk_join_result_free(&jr);
    av_free(p.chunks);
    av_free(files);
    return ret;
}

/* ---- the job ---- */

int sh_job_encode_long(Job *j, Attempt *best, int *attempts)
{
    Long L = { .j = j, .drift = 1, .two_pass = !!(j->plan.venc->caps & SH_ENC_CAP_TWO_PASS) };
    char audio_path[PATH_MAX] = "";
    int forced, ret;

    L.step = stretch_seconds(j, &forced);
    L.nplanned = av_clip((int)lrint(j->info->duration / L.step), 1, SH_LONG_MAX_STRETCHES);
    L.step = j->info->duration / L.nplanned;
    j->in_stretches = 1;
    j->final_rung = j->rung;
    sh_log(SH_LOG_VERBOSE, j->input, "long film: %d stretches of %.1f s, each its own encode, one budget",
           L.nplanned, L.step);
    if (!(L.s = av_calloc(L.nplanned, sizeof(*L.s)))) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if ((ret = sh_profile_scan(&L.prof, j->input, j->info, j->origin)) < 0 ||
        (ret = sh_video_chain_create(L.vchain, j->info, &j->rung, sh_job_video_pix_fmt(j))) < 0)
        goto end;
    if ((ret = sh_job_decode_pass(j, long_video, &L)) < 0 || (ret = sh_job_decoded(j, L.frames)) < 0)
        goto end;
    j->final_audio = j->apar != NULL;
    /* (Subtitle tracks ride with the audio: a file needs a stream for its chapters too.) */
    if (j->apar || sh_subs_tracks(j->subs)) {
        if ((ret = sh_temp_create_beside(audio_path, sizeof(audio_path), j->output)) < 0 ||
            (ret = write_audio(j, audio_path)) < 0) {
            sh_log(SH_LOG_ERROR, j->output, "cannot write the audio beside it: %s", av_err2str(ret));
            j->output_failed = 1;
            goto end;
        }
    }
    if ((ret = sh_temp_create_beside(best->path, sizeof(best->path), j->output)) < 0) {
        sh_log(SH_LOG_ERROR, j->output, "cannot create a file beside it: %s", av_err2str(ret));
        j->output_failed = 1;
        goto end;
    }
    /* Over the target (the container's share was estimated): the last
     * stretch, whose pictures are still here, gives up the excess. */
    for (int tries = 0; (ret = join(&L, best, audio_path[0] ? audio_path : NULL)) == SH_ERROR_REDO; tries++) {
        Stretch *last = &L.s[L.n - 1];
        int64_t want = last->video_bytes - (best->bytes - (int64_t)(j->plan.target_bytes * SH_LONG_AIM));
        if (tries == SH_LONG_MAX_TRIES || want <= 0) {
            sh_log(SH_LOG_ERROR, j->input, "the joined stretches stay over the target");
            ret = SH_ERROR_TARGET_TOO_SMALL;
            break;
        }
        L.video_bytes -= last->video_bytes;
        if ((ret = reencode(&L, L.n - 1, want)) == AVERROR(ERANGE)) {
            sh_log(SH_LOG_ERROR, j->input, "the joined stretches are over the target");
            ret = SH_ERROR_TARGET_TOO_SMALL;
            break;
        }
        if (ret < 0)
            goto end;
        L.video_bytes += last->video_bytes;
    }
    if (ret < 0) {
        j->output_failed = ret != SH_ERROR_TARGET_TOO_SMALL && ret != AVERROR(ENOMEM) && ret != SH_ERROR_INTERRUPTED;
        goto end;
    }
    best->video_bytes = L.video_bytes;
    best->bitrate = j->duration > 0 ? (int64_t)(L.video_bytes * 8 / j->duration) : 0;
    *attempts += 1;
    sh_log(SH_LOG_VERBOSE, j->input, "joined %d stretches: %lld bytes (%.1f%% of the target); %d stretch encodes, "
           "%.0f s of the film encoded again", L.n, (long long)best->bytes, 100.0 * best->bytes / j->plan.target_bytes,
           L.encodes, L.redo_seconds);
    ret = 0;
end:
    if (audio_path[0])
        sh_temp_remove(audio_path);
    if (ret < 0 && best->path[0]) {
        sh_temp_remove(best->path);
        best->path[0] = 0;
    }
    sh_job_run_free(&L.run, &L.cur, 1);
    for (int k = 0; L.s && k < L.nplanned; k++)
        if (L.s[k].path[0])
            sh_temp_remove(L.s[k].path);
    sh_stage_free(&L.vchain[0]);
    sh_stage_free(&L.vchain[1]);
    sh_frame_cache_free(&L.cache);
    av_free(L.s);
    sh_profile_uninit(&L.prof);
    return ret;
}
