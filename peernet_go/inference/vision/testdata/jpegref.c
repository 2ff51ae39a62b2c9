/*
 * jpegref: the C reference for BenchmarkJPEGPreprocess. It preprocesses a
 * JPEG the way a hand-written C pipeline on libjpeg-turbo would: decode
 * with the TurboJPEG API to RGB, at 1/8, 1/4 or 1/2 scale in the DCT
 * domain when the input is that much smaller in both directions (the rule
 * of the Go pipeline), then bilinear interpolation between the 2x2 nearest
 * pixels with pixel centres aligned (OpenCV's INTER_LINEAR), normalised to
 * BlazeFace's [-1, 1] into a float NHWC tensor. The benchmark compiles it
 * with the system's cc and runs it on the same file in the same run.
 *
 * usage: jpegref FILE WIDTH HEIGHT ITERATIONS
 * prints: checksum X, then the time of each iteration in nanoseconds, one
 * a line
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <turbojpeg.h>

static long long now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* axis fills, for each of dst outputs, the first source sample and the
 * weight of the second; extent is the source length the outputs span. */
static void axis(int src, double extent, int dst, int *i0, float *f) {
	double scale = extent / dst;
	for (int i = 0; i < dst; i++) {
		double c = (i + 0.5) * scale - 0.5;
		if (c < 0) c = 0;
		int a = (int)c;
		if (a >= src - 1) {
			i0[i] = src - 1;
			f[i] = 0;
		} else {
			i0[i] = a;
			f[i] = (float)(c - a);
		}
	}
}

int main(int argc, char **argv) {
	if (argc != 5) {
		fprintf(stderr, "usage: jpegref FILE WIDTH HEIGHT ITERATIONS\n");
		return 2;
	}
	FILE *fp = fopen(argv[1], "rb");
	if (!fp) {
		perror(argv[1]);
		return 1;
	}
	fseek(fp, 0, SEEK_END);
	long size = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	unsigned char *jpg = malloc(size);
	if (fread(jpg, 1, size, fp) != (size_t)size) {
		perror("read");
		return 1;
	}
	fclose(fp);
	int W = atoi(argv[2]), H = atoi(argv[3]), iters = atoi(argv[4]);
	if (W <= 0 || H <= 0 || iters <= 0) {
		fprintf(stderr, "jpegref: bad arguments\n");
		return 2;
	}

	tjhandle tj = tjInitDecompress();
	unsigned char *pix = NULL;
	size_t cap = 0;
	float *out = malloc(sizeof(float) * W * H * 3);
	int *x0 = malloc(sizeof(int) * W), *y0 = malloc(sizeof(int) * H);
	float *fx = malloc(sizeof(float) * W), *fy = malloc(sizeof(float) * H);
	long long *times = malloc(sizeof(long long) * iters);
	const float scale = 1 / 127.5f, mean = 1;
	double checksum = 0;

	for (int it = 0; it < iters; it++) {
		long long t0 = now_ns();
		int w, h, subsamp, cs;
		if (tjDecompressHeader3(tj, jpg, size, &w, &h, &subsamp, &cs) != 0) {
			fprintf(stderr, "jpegref: %s\n", tjGetErrorStr2(tj));
			return 1;
		}
		int s = 1;
		for (int d = 8; d >= 2; d /= 2) {
			if (W * d <= w && H * d <= h) {
				s = d;
				break;
			}
		}
		int sw = (w + s - 1) / s, sh = (h + s - 1) / s;
		if ((size_t)sw * sh * 3 > cap) {
			cap = (size_t)sw * sh * 3;
			pix = realloc(pix, cap);
		}
		if (tjDecompress2(tj, jpg, size, pix, sw, sw * 3, sh, TJPF_RGB,
		                  TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) != 0) {
			fprintf(stderr, "jpegref: %s\n", tjGetErrorStr2(tj));
			return 1;
		}
		axis(sw, (double)w / s, W, x0, fx);
		axis(sh, (double)h / s, H, y0, fy);
		for (int y = 0; y < H; y++) {
			const unsigned char *r0 = pix + (size_t)y0[y] * sw * 3;
			const unsigned char *r1 = y0[y] + 1 < sh ? r0 + sw * 3 : r0;
			float b = fy[y], a = 1 - b;
			float *o = out + (size_t)y * W * 3;
			for (int x = 0; x < W; x++) {
				int i = x0[x] * 3, j = x0[x] + 1 < sw ? i + 3 : i;
				float q = fx[x], p = 1 - q;
				for (int c = 0; c < 3; c++) {
					float v = a * (p * r0[i + c] + q * r0[j + c]) + b * (p * r1[i + c] + q * r1[j + c]);
					o[x * 3 + c] = v * scale - mean;
				}
			}
		}
		times[it] = now_ns() - t0;
		checksum += out[(H / 2 * W + W / 2) * 3];
	}
	printf("checksum %g\n", checksum);
	for (int it = 0; it < iters; it++)
		printf("%lld\n", times[it]);
	tjDestroy(tj);
	return 0;
}
