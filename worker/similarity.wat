;; All pairwise dot products of two lists of float32 vectors, four lanes at a time (WebAssembly
;; SIMD). The vectors are stored back to back, `stride` bytes apart (a multiple of 16, the tail of
;; each vector zero-padded); the matrix is written row-major at `out`.
;; Built into similarity.wasm by scripts/build-wasm.ts.
(module
  (memory (export "memory") 1)
  (func (export "matrix")
    (param $a i32) (param $na i32) (param $b i32) (param $nb i32) (param $stride i32) (param $out i32)
    (local $i i32) (local $j i32) (local $k i32) (local $pa i32) (local $pb i32)
    (local $acc0 v128) (local $acc1 v128) (local $sum v128)
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $na)))
        (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $stride))))
        (local.set $j (i32.const 0))
        (block $cols_done
          (loop $cols
            (br_if $cols_done (i32.ge_u (local.get $j) (local.get $nb)))
            (local.set $pb (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $stride))))
            (local.set $acc0 (v128.const f32x4 0 0 0 0))
            (local.set $acc1 (v128.const f32x4 0 0 0 0))
            (local.set $k (i32.const 0))
            ;; Two accumulators, 32 bytes a step; a stride that is an odd multiple of 16 ends with one lone step.
            (block $pairs_done
              (loop $pairs
                (br_if $pairs_done (i32.gt_u (i32.add (local.get $k) (i32.const 32)) (local.get $stride)))
                (local.set $acc0 (f32x4.add (local.get $acc0)
                  (f32x4.mul (v128.load (i32.add (local.get $pa) (local.get $k)))
                             (v128.load (i32.add (local.get $pb) (local.get $k))))))
                (local.set $acc1 (f32x4.add (local.get $acc1)
                  (f32x4.mul (v128.load offset=16 (i32.add (local.get $pa) (local.get $k)))
                             (v128.load offset=16 (i32.add (local.get $pb) (local.get $k))))))
                (local.set $k (i32.add (local.get $k) (i32.const 32)))
                (br $pairs)))
            (if (i32.lt_u (local.get $k) (local.get $stride))
              (then
                (local.set $acc0 (f32x4.add (local.get $acc0)
                  (f32x4.mul (v128.load (i32.add (local.get $pa) (local.get $k)))
                             (v128.load (i32.add (local.get $pb) (local.get $k))))))))
            (local.set $sum (f32x4.add (local.get $acc0) (local.get $acc1)))
            (f32.store
              (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $nb)) (local.get $j)) (i32.const 2)))
              (f32.add
                (f32.add (f32x4.extract_lane 0 (local.get $sum)) (f32x4.extract_lane 1 (local.get $sum)))
                (f32.add (f32x4.extract_lane 2 (local.get $sum)) (f32x4.extract_lane 3 (local.get $sum)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))))
