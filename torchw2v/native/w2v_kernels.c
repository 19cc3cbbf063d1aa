/*
 * CPU kernels for torchw2v: skip-gram and CBOW with negative sampling, one pair at a time.
 *
 * The data-preparation thread has already subsampled the corpus and cut it into windows:
 * a batch is B centers with C context slots each (-1 where empty). These loops apply
 * gensim's sequential SGD to the float32 weight matrices in place, drawing K fresh noise
 * words per (center, context) pair from the cumulative noise table with a 48-bit LCG, as
 * word2vec.c and gensim do, and skipping pairs whose score is beyond +-6 as they do. Called through ctypes, which releases the GIL, so several
 * Python threads can run them at once on different batches (Hogwild, as gensim's workers).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_EXP 6.0f

/* Compile the entry points for AVX2+FMA as well as baseline x86-64, chosen at load time. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define FAST_CLONES __attribute__((target_clones("arch=haswell", "default")))
#else
#define FAST_CLONES
#endif

static inline uint64_t next_random(uint64_t *state) {
    *state = (*state * 25214903917ULL + 11ULL) & 281474976710655ULL;
    return *state;
}

/* gensim's draw: bisect_left(cum_table, (next_random >> 16) % cum_table[-1]) */
static inline int64_t draw_noise(const uint32_t *cum_table, int64_t vocab, uint64_t *state) {
    uint64_t r = (next_random(state) >> 16) % cum_table[vocab - 1];
    int64_t lo = 0, hi = vocab;
    while (lo < hi) {
        int64_t mid = (lo + hi) >> 1;
        if (cum_table[mid] < r) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* Eight partial sums, so the compiler vectorises the reduction without -ffast-math. */
static inline float dot(const float *a, const float *b, int64_t n) {
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += a[i + k] * b[i + k];
    float total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < n; i++) total += a[i] * b[i];
    return total;
}

static inline void axpy(float alpha, const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

/* -log(sigmoid(x)), stable for large |x| */
static inline double neg_log_sigmoid(double x) {
    return x > 0 ? log1p(exp(-x)) : -x + log1p(exp(x));
}

/* One input vector `l1` against the true word and K noise words; adds the output rows'
 * updates in place and accumulates the input's update into `neu1e`. Returns the loss. */
static inline __attribute__((always_inline)) double train_pair(const float *l1, float *neu1e, float *syn1neg, int64_t dim, int64_t target,
                         int64_t negative, const uint32_t *cum_table, int64_t vocab, float alpha,
                         uint64_t *state, int compute_loss) {
    double loss = 0.0;
    for (int64_t d = 0; d <= negative; d++) {
        int64_t word = target;
        float label = 1.0f;
        if (d > 0) {
            word = draw_noise(cum_table, vocab, state);
            if (word == target) continue;
            label = 0.0f;
        }
        float *row = syn1neg + word * dim;
        float f = dot(l1, row, dim);
        if (f <= -MAX_EXP || f >= MAX_EXP) continue; /* gensim and word2vec.c skip saturated pairs */
        float sig = 1.0f / (1.0f + expf(-f));
        float g = (label - sig) * alpha;
        axpy(g, row, neu1e, dim);
        axpy(g, l1, row, dim);
        if (compute_loss) loss += neg_log_sigmoid(label > 0 ? f : -f);
    }
    return loss;
}

/* Skip-gram: every context word's vector predicts the center word. */
FAST_CLONES double w2v_skipgram_negative(float *syn0, float *syn1neg, int64_t dim, int64_t vocab,
                             const int64_t *centers, const int64_t *contexts, int64_t batch, int64_t width,
                             int64_t negative, const uint32_t *cum_table, float alpha, uint64_t *state,
                             int compute_loss, float *work) {
    double loss = 0.0;
    for (int64_t b = 0; b < batch; b++) {
        for (int64_t c = 0; c < width; c++) {
            int64_t context = contexts[b * width + c];
            if (context < 0) continue;
            float *l1 = syn0 + context * dim;
            memset(work, 0, dim * sizeof(float));
            loss += train_pair(l1, work, syn1neg, dim, centers[b], negative, cum_table, vocab, alpha, state,
                               compute_loss);
            axpy(1.0f, work, l1, dim);
        }
    }
    return loss;
}

/* CBOW: the mean (cbow_mean) or sum of the context vectors predicts the center word; every
 * context word gets the hidden vector's update (divided by the context size when summed). */
FAST_CLONES double w2v_cbow_negative(float *syn0, float *syn1neg, int64_t dim, int64_t vocab,
                         const int64_t *centers, const int64_t *contexts, int64_t batch, int64_t width,
                         int64_t negative, const uint32_t *cum_table, float alpha, uint64_t *state,
                         int cbow_mean, int compute_loss, float *work) {
    double loss = 0.0;
    float *hidden = work, *neu1e = work + dim;
    for (int64_t b = 0; b < batch; b++) {
        const int64_t *window = contexts + b * width;
        int count = 0;
        memset(hidden, 0, dim * sizeof(float));
        for (int64_t c = 0; c < width; c++) {
            if (window[c] < 0) continue;
            axpy(1.0f, syn0 + window[c] * dim, hidden, dim);
            count++;
        }
        if (count == 0) continue;
        if (cbow_mean) for (int64_t i = 0; i < dim; i++) hidden[i] /= (float)count;
        memset(neu1e, 0, dim * sizeof(float));
        loss += train_pair(hidden, neu1e, syn1neg, dim, centers[b], negative, cum_table, vocab, alpha, state,
                           compute_loss);
        float scale = cbow_mean ? 1.0f : 1.0f / (float)count;
        for (int64_t c = 0; c < width; c++) {
            if (window[c] < 0) continue;
            axpy(scale, neu1e, syn0 + window[c] * dim, dim);
        }
    }
    return loss;
}
