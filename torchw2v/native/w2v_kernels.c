/*
 * CPU kernels for torchw2v: skip-gram and CBOW with negative sampling and/or hierarchical
 * softmax, one pair at a time.
 *
 * The data-preparation thread has already subsampled the corpus and cut it into windows:
 * a batch is B centers with C context slots each (-1 where empty). These loops apply
 * gensim's sequential SGD to the float32 weight matrices in place: for each pair, the
 * Huffman path of the center word (hs) and then K fresh noise words (negative sampling),
 * drawn from the cumulative noise table with word2vec's 48-bit LCG (or, for skip-gram, drawn
 * once per center and shared by its context words), skipping pairs whose score is beyond
 * +-6 and reading the sigmoid from a table, as word2vec.c and gensim do. Called through
 * ctypes, which releases the GIL, so several Python threads run them at once on different
 * batches (Hogwild, as gensim's workers). Each input row's update is scaled by gensim's
 * `vectors_lockf` (0: frozen).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_EXP 6.0f
#define EXP_TABLE_SIZE 1000

/* Compile the entry points for AVX+FMA as well as baseline x86-64, chosen at load time by the
 * CPU's features. ("arch=haswell" would be chosen only on Haswell itself: GCC dispatches it by
 * CPU model, and every other CPU, AMD's and later Intel ones, got the baseline build.) */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define FAST_CLONES __attribute__((target_clones("fma", "default")))
#else
#define FAST_CLONES
#endif

/* The model's arrays; mirrored by torchw2v.native._Model (ctypes). */
typedef struct {
    float *syn0, *syn1neg, *syn1;
    int64_t dim, vocab, negative, hs, depth;
    const uint32_t *cum_table;
    const uint8_t *codes;   /* (vocab, depth), padded Huffman codes */
    const int64_t *points;  /* (vocab, depth), padded inner-node indices */
    const int32_t *lengths; /* (vocab,), path lengths */
    const float *lockf;     /* (1,) or (vocab,): input-update multiplier (gensim's vectors_lockf) */
    int64_t lockf_len;
    const float *sigmoid_table; /* (EXP_TABLE_SIZE,): gensim's EXP_TABLE, sigmoid on a grid of [-MAX_EXP, MAX_EXP) */
} Model;

static inline uint64_t next_random(uint64_t *state) {
    *state = (*state * 25214903917ULL + 11ULL) & 281474976710655ULL;
    return *state;
}

/* gensim's draw: bisect_left(cum_table, (next_random >> 16) % cum_table[-1]) */
static inline int64_t draw_noise(const Model *m, uint64_t *state) {
    uint64_t r = (next_random(state) >> 16) % m->cum_table[m->vocab - 1];
    int64_t lo = 0, hi = m->vocab;
    while (lo < hi) {
        int64_t mid = (lo + hi) >> 1;
        if (m->cum_table[mid] < r) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* Eight floats, loaded from any address (as immintrin.h's __m256_u); plain SSE pairs in the
 * baseline build. */
typedef float v8f __attribute__((vector_size(32), aligned(4), may_alias));

/* Four vector accumulators: four chains of multiply-adds in flight instead of one. Inlined
 * everywhere, so that each entry point's clone compiles it for its own instruction set. */
static inline __attribute__((always_inline)) float dot(const float *a, const float *b, int64_t n) {
    v8f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 += *(const v8f *)(a + i) * *(const v8f *)(b + i);
        s1 += *(const v8f *)(a + i + 8) * *(const v8f *)(b + i + 8);
        s2 += *(const v8f *)(a + i + 16) * *(const v8f *)(b + i + 16);
        s3 += *(const v8f *)(a + i + 24) * *(const v8f *)(b + i + 24);
    }
    for (; i + 8 <= n; i += 8) s0 += *(const v8f *)(a + i) * *(const v8f *)(b + i);
    v8f s = (s0 + s1) + (s2 + s3);
    float total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < n; i++) total += a[i] * b[i];
    return total;
}

/* Ask for a row's cache lines ahead of its use (64-byte lines). */
static inline void prefetch_row(const float *row, int64_t dim) {
    for (int64_t i = 0; i < dim; i += 16) __builtin_prefetch(row + i);
}

/* Ask for the output rows a target word trains against: its Huffman path (hs) and its row of
 * syn1neg (negative sampling). */
static inline void prefetch_target(const Model *m, int64_t target) {
    if (m->hs) {
        const int64_t *point = m->points + target * m->depth;
        for (int32_t j = 0; j < m->lengths[target]; j++) prefetch_row(m->syn1 + point[j] * m->dim, m->dim);
    }
    if (m->negative) prefetch_row(m->syn1neg + target * m->dim, m->dim);
}

/* Draw a window's K noise words into `noise` and ask for their rows. */
static inline void draw_noise_words(const Model *m, uint64_t *state, int64_t *noise) {
    for (int64_t d = 0; d < m->negative; d++) {
        noise[d] = draw_noise(m, state);
        prefetch_row(m->syn1neg + noise[d] * m->dim, m->dim);
    }
}

/* The multiplier of word w's input update: one value for all words, or one per word. */
static inline float lock_factor(const Model *m, int64_t w) {
    return m->lockf_len == 1 ? m->lockf[0] : m->lockf[w];
}

static inline __attribute__((always_inline)) void axpy(float alpha, const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

/* -log(sigmoid(x)), stable for large |x| */
static inline double neg_log_sigmoid(double x) {
    return x > 0 ? log1p(exp(-x)) : -x + log1p(exp(x));
}

/* The sigmoid of a score in (-MAX_EXP, MAX_EXP), read from the table as gensim and word2vec.c
 * read it: a load instead of expf and a division. Their scale is the integer 1000 / 6 / 2 = 83,
 * so the index stays below 1000 even where f + MAX_EXP rounds up to 12 in float (a scale of
 * 83.33 would read past the table there). */
#define SIGMOID_SCALE (EXP_TABLE_SIZE / 6 / 2)
static inline __attribute__((always_inline)) float sigmoid(const Model *m, float f) {
    return m->sigmoid_table[(int)((f + MAX_EXP) * SIGMOID_SCALE)];
}

/* One logistic pair: input l1 against output row `row` with `label`. */
static inline __attribute__((always_inline)) double train_logistic(const Model *m, const float *l1, float *neu1e,
                                                                   float *row, float label, float alpha,
                                                                   int compute_loss) {
    int64_t dim = m->dim;
    float f = dot(l1, row, dim);
    if (f <= -MAX_EXP || f >= MAX_EXP) return 0.0; /* gensim and word2vec.c skip saturated pairs */
    float g = (label - sigmoid(m, f)) * alpha;
    for (int64_t i = 0; i < dim; i++) { /* neu1e += g row; row += g l1: one pass over the row */
        float r = row[i];
        neu1e[i] += g * r;
        row[i] = r + g * l1[i];
    }
    return compute_loss ? neg_log_sigmoid(label > 0 ? f : -f) : 0.0;
}

/* Two inputs, l1a and l1b, against the same output row with the same label: both scores from the
 * row as it is, both updates applied in one pass over it (as two Hogwild threads could). */
static inline __attribute__((always_inline)) double train_logistic_pair(const Model *m, const float *l1a,
                                                                        const float *l1b, float *neu1e_a,
                                                                        float *neu1e_b, float *row, float label,
                                                                        float alpha, int compute_loss) {
    int64_t dim = m->dim;
    float fa = dot(l1a, row, dim), fb = dot(l1b, row, dim);
    int in_a = fa > -MAX_EXP && fa < MAX_EXP, in_b = fb > -MAX_EXP && fb < MAX_EXP; /* else skipped */
    if (!in_a && !in_b) return 0.0;
    float ga = in_a ? (label - sigmoid(m, fa)) * alpha : 0.0f, gb = in_b ? (label - sigmoid(m, fb)) * alpha : 0.0f;
    for (int64_t i = 0; i < dim; i++) {
        float r = row[i];
        neu1e_a[i] += ga * r;
        neu1e_b[i] += gb * r;
        row[i] = r + ga * l1a[i] + gb * l1b[i];
    }
    if (!compute_loss) return 0.0;
    return (in_a ? neg_log_sigmoid(label > 0 ? fa : -fa) : 0.0) + (in_b ? neg_log_sigmoid(label > 0 ? fb : -fb) : 0.0);
}

/* Two inputs against the rows of `target`: its Huffman path (hs), then, with shared `noise`
 * words (one set for both), the target's row of syn1neg and the noise words'. Each row is read
 * once for both inputs; the updates accumulate into neu1e_a and neu1e_b. */
static inline __attribute__((always_inline)) double train_target_pair(const Model *m, const float *l1a,
                                                                      const float *l1b, float *neu1e_a,
                                                                      float *neu1e_b, int64_t target, float alpha,
                                                                      const int64_t *noise, int compute_loss) {
    double loss = 0.0;
    if (m->hs) {
        const uint8_t *code = m->codes + target * m->depth;
        const int64_t *point = m->points + target * m->depth;
        for (int32_t j = 0; j < m->lengths[target]; j++)
            loss += train_logistic_pair(m, l1a, l1b, neu1e_a, neu1e_b, m->syn1 + point[j] * m->dim,
                                        1.0f - (float)code[j], alpha, compute_loss);
    }
    for (int64_t d = 0; d <= m->negative && m->negative > 0; d++) {
        int64_t word = d == 0 ? target : noise[d - 1];
        if (d > 0 && (word == target || word < 0)) continue;
        loss += train_logistic_pair(m, l1a, l1b, neu1e_a, neu1e_b, m->syn1neg + word * m->dim, d == 0 ? 1.0f : 0.0f,
                                    alpha, compute_loss);
    }
    return loss;
}

/* Input vector l1 predicting `target`: its Huffman path (hs), then K noise words (negative):
 * drawn fresh when `noise` is NULL, else the K words given there (-1: skipped).
 * Output rows are updated in place; the input's update accumulates into neu1e. */
static inline __attribute__((always_inline)) double train_target(const Model *m, const float *l1, float *neu1e,
                                                                 int64_t target, float alpha, uint64_t *state,
                                                                 const int64_t *noise, int compute_loss) {
    double loss = 0.0;
    if (m->hs) {
        const uint8_t *code = m->codes + target * m->depth;
        const int64_t *point = m->points + target * m->depth;
        for (int32_t j = 0; j < m->lengths[target]; j++)
            loss += train_logistic(m, l1, neu1e, m->syn1 + point[j] * m->dim, 1.0f - (float)code[j], alpha,
                                   compute_loss);
    }
    for (int64_t d = 0; d <= m->negative && m->negative > 0; d++) {
        int64_t word = target;
        float label = 1.0f;
        if (d > 0) {
            word = noise ? noise[d - 1] : draw_noise(m, state);
            if (word == target || word < 0) continue;
            label = 0.0f;
        }
        loss += train_logistic(m, l1, neu1e, m->syn1neg + word * m->dim, label, alpha, compute_loss);
    }
    return loss;
}

/* Skip-gram: every context word's vector predicts the center word. With `noise` (room for 2K
 * words), the K noise words are drawn once per center and shared by its context words (Ji et
 * al. 2016): their rows stay in cache through the window; else fresh for every pair (gensim).
 * The next window's rows are prefetched (its noise words drawn one window ahead, in the same
 * order) while this one trains. When all context words train against the same rows (the path
 * alone, or shared noise words), they go two at a time (train_target_pair): each row is read
 * once for both, which halves the reads of the output rows and gives the CPU two independent
 * dot products per row. */
FAST_CLONES double w2v_skipgram(const Model *m, const int64_t *centers, const int64_t *contexts, int64_t batch,
                                int64_t width, float alpha, uint64_t *state, int compute_loss, float *work,
                                int64_t *noise) {
    double loss = 0.0;
    int64_t dim = m->dim, negative = m->negative;
    int pairs = noise || (m->hs && !negative); /* the context words train against the same rows */
    if (noise && batch > 0) draw_noise_words(m, state, noise);
    for (int64_t b = 0; b < batch; b++) {
        int64_t *current = noise ? noise + (b & 1) * negative : NULL;
        if (b + 1 < batch) {
            const int64_t *next_window = contexts + (b + 1) * width;
            for (int64_t c = 0; c < width; c++)
                if (next_window[c] >= 0) prefetch_row(m->syn0 + next_window[c] * dim, dim);
            prefetch_target(m, centers[b + 1]);
            if (noise) draw_noise_words(m, state, noise + ((b + 1) & 1) * negative);
        }
        const int64_t *window = contexts + b * width;
        for (int64_t c = 0; c < width; c++) {
            int64_t context = window[c], second = -1;
            if (context < 0) continue;
            if (pairs) /* and the next context word, if any */
                while (second < 0 && ++c < width) second = window[c];
            float *l1 = m->syn0 + context * dim;
            if (second < 0) {
                memset(work, 0, dim * sizeof(float));
                loss += train_target(m, l1, work, centers[b], alpha, state, current, compute_loss);
            } else {
                memset(work, 0, 2 * dim * sizeof(float));
                float *l1b = m->syn0 + second * dim;
                loss += train_target_pair(m, l1, l1b, work, work + dim, centers[b], alpha, current, compute_loss);
                axpy(lock_factor(m, second), work + dim, l1b, dim);
            }
            axpy(lock_factor(m, context), work, l1, dim);
        }
    }
    return loss;
}

/* Whether a window has a context word. */
static inline int has_context(const int64_t *window, int64_t width) {
    for (int64_t c = 0; c < width; c++)
        if (window[c] >= 0) return 1;
    return 0;
}

/* CBOW: the mean (cbow_mean) or sum of the context vectors predicts the center word; every
 * context word gets the hidden vector's update (divided by the context size when summed).
 * The next window's rows are prefetched while this one trains; with `noise` (room for 2K
 * words), so are its noise words', drawn one window ahead: the same draws in the same order
 * as drawing them when the window trains (gensim's). */
FAST_CLONES double w2v_cbow(const Model *m, const int64_t *centers, const int64_t *contexts, int64_t batch,
                            int64_t width, float alpha, uint64_t *state, int cbow_mean, int compute_loss,
                            float *work, int64_t *noise) {
    double loss = 0.0;
    int64_t dim = m->dim, negative = m->negative;
    float *hidden = work, *neu1e = work + dim;
    if (noise && batch > 0 && has_context(contexts, width)) draw_noise_words(m, state, noise);
    for (int64_t b = 0; b < batch; b++) {
        const int64_t *window = contexts + b * width;
        int64_t *current = noise ? noise + (b & 1) * negative : NULL;
        int count = 0;
        if (b + 1 < batch) { /* fetch the next window's rows while this one trains */
            int next_has_context = 0;
            for (int64_t c = 0; c < width; c++)
                if (window[width + c] >= 0) {
                    prefetch_row(m->syn0 + window[width + c] * dim, dim);
                    next_has_context = 1;
                }
            prefetch_target(m, centers[b + 1]);
            if (noise && next_has_context) draw_noise_words(m, state, noise + ((b + 1) & 1) * negative);
        }
        memset(hidden, 0, dim * sizeof(float));
        for (int64_t c = 0; c < width; c++) {
            if (window[c] < 0) continue;
            axpy(1.0f, m->syn0 + window[c] * dim, hidden, dim);
            count++;
        }
        if (count == 0) continue;
        if (cbow_mean) for (int64_t i = 0; i < dim; i++) hidden[i] /= (float)count;
        memset(neu1e, 0, dim * sizeof(float));
        loss += train_target(m, hidden, neu1e, centers[b], alpha, state, current, compute_loss);
        float scale = cbow_mean ? 1.0f : 1.0f / (float)count;
        for (int64_t c = 0; c < width; c++) {
            if (window[c] < 0) continue;
            axpy(scale * lock_factor(m, window[c]), neu1e, m->syn0 + window[c] * dim, dim);
        }
    }
    return loss;
}
