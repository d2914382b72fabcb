;; Statistics of 16-bit samples with WebAssembly SIMD: sum, minimum, maximum, and the sum of
;; squares of every segment (an SNR frame) — what signal-stats.ts monoInt16/multiInt16 compute one
;; sample at a time. Built by `npm run build:wasm` (scripts/build-wasm.ts, wabt) into
;; int16-stats.wasm; a test checks that the committed binary is what this source builds to.
;;
;; stats16(ptr, n, first, seg, out) -> segments
;;   ptr    byte address of n little-endian int16 samples (any alignment)
;;   first  samples in the first segment (the rest of an SNR frame carried from the last call)
;;   seg    samples in every later segment; the last one may be partial
;;   out    f64[0] = sum, f64[1] = minimum, f64[2] = maximum, f64[3 + k] = sum of squares of
;;          segment k. Every value is an exact integer: a call covers at most 2^21 samples, so a
;;          sum of squares stays below 2^51.
;;
;; firstLoud(ptr, n) -> index of the first sample with |x| > 32 (above −60 dBFS: 0.001 × 32768 =
;; 32.768), or n; lastLoud(ptr, n) -> index of the last one, or -1. They scan in from each end, 8
;; samples a step, so a clip's leading and trailing silence cost little.
;;
;; Sums of squares: i32x4.dot_i16x8_s gives lanes up to 2^31 (two samples of -32768), which fit
;; an unsigned 32-bit lane, so each dot product is widened unsigned to i64x2 before it is added.
;; Sums: i32x4.extadd_pairwise_i16x8_s lanes hold at most 2^16 per vector; they are folded into
;; the 64-bit total every 4,096 vectors, long before a lane could overflow (2^28 < 2^31).
(module
  ;; 1 MiB of samples read from files (the analyzer's I/O buffer, at 0), 256 KiB for copies of
  ;; samples that arrive from elsewhere, 64 KiB of results: 21 pages of 64 KiB.
  (memory (export "memory") 21 21)

  (func (export "stats16")
    (param $ptr i32) (param $n i32) (param $first i32) (param $seg i32) (param $out i32)
    (result i32)
    (local $p i32) (local $end i32) (local $segEnd i32) (local $blockEnd i32) (local $len i32)
    (local $k i32) (local $x i32) (local $mns i32) (local $mxs i32)
    (local $sum i64) (local $sqs i64)
    (local $v v128) (local $w v128) (local $d v128) (local $sumv v128) (local $sq v128)
    (local $mn v128) (local $mx v128)

    (local.set $p (local.get $ptr))
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $n) (i32.const 1))))
    (local.set $len (local.get $first))
    (local.set $mn (i16x8.splat (i32.const 32767)))
    (local.set $mx (i16x8.splat (i32.const -32768)))
    (local.set $mns (i32.const 32767))
    (local.set $mxs (i32.const -32768))

    (block $done
      (loop $segments
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        ;; segEnd = min(p + 2 * len, end)
        (local.set $segEnd (i32.add (local.get $p) (i32.shl (local.get $len) (i32.const 1))))
        (if (i32.gt_u (local.get $segEnd) (local.get $end))
          (then (local.set $segEnd (local.get $end))))
        (local.set $sq (v128.const i64x2 0 0))
        (local.set $sqs (i64.const 0))

        ;; Whole vectors, in blocks of at most 4,096 (64 KiB), two at a time where possible.
        (block $vectorsDone
          (loop $blocks
            (br_if $vectorsDone (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $segEnd)))
            (local.set $blockEnd (i32.add (local.get $p) (i32.const 65536)))
            (if (i32.gt_u (local.get $blockEnd) (local.get $segEnd))
              (then (local.set $blockEnd (local.get $segEnd))))
            (local.set $sumv (v128.const i32x4 0 0 0 0))
            (block $pairsDone
              (loop $pairs
                (br_if $pairsDone (i32.gt_u (i32.add (local.get $p) (i32.const 32)) (local.get $blockEnd)))
                (local.set $v (v128.load align=1 (local.get $p)))
                (local.set $w (v128.load offset=16 align=1 (local.get $p)))
                (local.set $sumv (i32x4.add (local.get $sumv)
                  (i32x4.add (i32x4.extadd_pairwise_i16x8_s (local.get $v))
                             (i32x4.extadd_pairwise_i16x8_s (local.get $w)))))
                (local.set $d (i32x4.dot_i16x8_s (local.get $v) (local.get $v)))
                (local.set $sq (i64x2.add (local.get $sq)
                  (i64x2.add (i64x2.extend_low_i32x4_u (local.get $d)) (i64x2.extend_high_i32x4_u (local.get $d)))))
                (local.set $d (i32x4.dot_i16x8_s (local.get $w) (local.get $w)))
                (local.set $sq (i64x2.add (local.get $sq)
                  (i64x2.add (i64x2.extend_low_i32x4_u (local.get $d)) (i64x2.extend_high_i32x4_u (local.get $d)))))
                (local.set $mn (i16x8.min_s (local.get $mn) (i16x8.min_s (local.get $v) (local.get $w))))
                (local.set $mx (i16x8.max_s (local.get $mx) (i16x8.max_s (local.get $v) (local.get $w))))
                (local.set $p (i32.add (local.get $p) (i32.const 32)))
                (br $pairs)))
            (if (i32.le_u (i32.add (local.get $p) (i32.const 16)) (local.get $blockEnd))
              (then
                (local.set $v (v128.load align=1 (local.get $p)))
                (local.set $sumv (i32x4.add (local.get $sumv) (i32x4.extadd_pairwise_i16x8_s (local.get $v))))
                (local.set $d (i32x4.dot_i16x8_s (local.get $v) (local.get $v)))
                (local.set $sq (i64x2.add (local.get $sq)
                  (i64x2.add (i64x2.extend_low_i32x4_u (local.get $d)) (i64x2.extend_high_i32x4_u (local.get $d)))))
                (local.set $mn (i16x8.min_s (local.get $mn) (local.get $v)))
                (local.set $mx (i16x8.max_s (local.get $mx) (local.get $v)))
                (local.set $p (i32.add (local.get $p) (i32.const 16)))))
            ;; Fold the block's sums into the 64-bit total.
            (local.set $sum (i64.add (local.get $sum)
              (i64.add
                (i64.add (i64.extend_i32_s (i32x4.extract_lane 0 (local.get $sumv)))
                         (i64.extend_i32_s (i32x4.extract_lane 1 (local.get $sumv))))
                (i64.add (i64.extend_i32_s (i32x4.extract_lane 2 (local.get $sumv)))
                         (i64.extend_i32_s (i32x4.extract_lane 3 (local.get $sumv)))))))
            (br $blocks)))

        ;; The samples left in this segment, one at a time.
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $p) (local.get $segEnd)))
            (local.set $x (i32.load16_s (local.get $p)))
            (local.set $sum (i64.add (local.get $sum) (i64.extend_i32_s (local.get $x))))
            (local.set $sqs (i64.add (local.get $sqs) (i64.extend_i32_s (i32.mul (local.get $x) (local.get $x)))))
            (if (i32.lt_s (local.get $x) (local.get $mns)) (then (local.set $mns (local.get $x))))
            (if (i32.gt_s (local.get $x) (local.get $mxs)) (then (local.set $mxs (local.get $x))))
            (local.set $p (i32.add (local.get $p) (i32.const 2)))
            (br $tail)))

        ;; The segment's sum of squares. (x * x of -32768 is 2^30: it fits i32 as a product.)
        (f64.store offset=24
          (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 3)))
          (f64.convert_i64_u (i64.add (local.get $sqs)
            (i64.add (i64x2.extract_lane 0 (local.get $sq)) (i64x2.extract_lane 1 (local.get $sq))))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (local.set $len (local.get $seg))
        (br $segments)))

    ;; Minimum and maximum across the eight lanes and the scalar tails.
    (local.set $mn (i16x8.min_s (local.get $mn) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $mn) (local.get $mn))))
    (local.set $mn (i16x8.min_s (local.get $mn) (i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 (local.get $mn) (local.get $mn))))
    (local.set $mn (i16x8.min_s (local.get $mn) (i8x16.shuffle 2 3 0 1 2 3 0 1 2 3 0 1 2 3 0 1 (local.get $mn) (local.get $mn))))
    (local.set $mx (i16x8.max_s (local.get $mx) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $mx) (local.get $mx))))
    (local.set $mx (i16x8.max_s (local.get $mx) (i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 (local.get $mx) (local.get $mx))))
    (local.set $mx (i16x8.max_s (local.get $mx) (i8x16.shuffle 2 3 0 1 2 3 0 1 2 3 0 1 2 3 0 1 (local.get $mx) (local.get $mx))))
    (if (i32.lt_s (i16x8.extract_lane_s 0 (local.get $mn)) (local.get $mns))
      (then (local.set $mns (i16x8.extract_lane_s 0 (local.get $mn)))))
    (if (i32.gt_s (i16x8.extract_lane_s 0 (local.get $mx)) (local.get $mxs))
      (then (local.set $mxs (i16x8.extract_lane_s 0 (local.get $mx)))))
    (f64.store (local.get $out) (f64.convert_i64_s (local.get $sum)))
    (f64.store offset=8 (local.get $out) (f64.convert_i32_s (local.get $mns)))
    (f64.store offset=16 (local.get $out) (f64.convert_i32_s (local.get $mxs)))
    (local.get $k))
  (func (export "firstLoud") (param $ptr i32) (param $n i32) (result i32)
    (local $p i32) (local $end i32) (local $x i32)
    (local.set $p (local.get $ptr))
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $n) (i32.const 1))))
    (block $found
      (loop $vectors
        (br_if $found (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (br_if $found (v128.any_true (call $loud (v128.load align=1 (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $vectors)))
    (block $done
      (loop $samples
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (i32.load16_s (local.get $p)))
        (if (i32.or (i32.gt_s (local.get $x) (i32.const 32)) (i32.lt_s (local.get $x) (i32.const -32)))
          (then (return (i32.shr_u (i32.sub (local.get $p) (local.get $ptr)) (i32.const 1)))))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (br $samples)))
    (local.get $n))

  (func (export "lastLoud") (param $ptr i32) (param $n i32) (result i32)
    (local $p i32) (local $x i32)
    ;; p is one past the samples still to look at.
    (local.set $p (i32.add (local.get $ptr) (i32.shl (local.get $n) (i32.const 1))))
    (block $found
      (loop $vectors
        (br_if $found (i32.lt_u (i32.sub (local.get $p) (local.get $ptr)) (i32.const 16)))
        (br_if $found (v128.any_true (call $loud (v128.load offset=0 align=1 (i32.sub (local.get $p) (i32.const 16))))))
        (local.set $p (i32.sub (local.get $p) (i32.const 16)))
        (br $vectors)))
    (block $done
      (loop $samples
        (br_if $done (i32.le_u (local.get $p) (local.get $ptr)))
        (local.set $p (i32.sub (local.get $p) (i32.const 2)))
        (local.set $x (i32.load16_s (local.get $p)))
        (if (i32.or (i32.gt_s (local.get $x) (i32.const 32)) (i32.lt_s (local.get $x) (i32.const -32)))
          (then (return (i32.shr_u (i32.sub (local.get $p) (local.get $ptr)) (i32.const 1)))))
        (br $samples)))
    (i32.const -1))

  ;; Lanes above 32 or below -32.
  (func $loud (param $v v128) (result v128)
    (v128.or (i16x8.gt_s (local.get $v) (i16x8.splat (i32.const 32)))
             (i16x8.lt_s (local.get $v) (i16x8.splat (i32.const -32))))))
