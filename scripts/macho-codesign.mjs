#!/usr/bin/env node
// Ad-hoc code signature for a thin 64-bit Mach-O executable, written on any OS.
//
//   node scripts/macho-codesign.mjs [--identifier ID] FILE   sign FILE in place (ID: file name)
//   node scripts/macho-codesign.mjs --remove FILE            strip its signature in place
//
// Apple Silicon kills arm64 programs without a valid signature; `codesign --sign -` exists only on
// macOS and Debian packages no replacement (rcodesign, ldid). This writes what Go's linker writes
// for every darwin binary it links (src/cmd/internal/codesign): a SuperBlob holding a single
// CodeDirectory (version 0x20400, flags adhoc|linker-signed, SHA-256 of each 4 KiB page up to the
// signature), placed at the 16-byte aligned end of __LINKEDIT. test/e2e/executable.test.ts checks
// the result byte for byte against Go's own output. No certificate, so no notarisation: a browser
// download still meets Gatekeeper's quarantine (`xattr -d com.apple.quarantine`); krew's does not.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';

const MH_MAGIC_64 = 0xfeedfacf;
const MH_EXECUTE = 2;
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CS_ADHOC = 0x2;
const CS_LINKER_SIGNED = 0x20000;
const CS_HASHTYPE_SHA256 = 2;
const CS_EXECSEG_MAIN_BINARY = 0x1;
const PAGE_BITS = 12;
const PAGE = 1 << PAGE_BITS;
const HEADER = 32; // mach_header_64
const SUPERBLOB = 12 + 8; // header + one index entry
const CODEDIRECTORY = 88; // version 0x20400 header

/** Returns a copy of `buf` with a fresh ad-hoc signature (any old one is replaced). */
export function adhocSign(input, identifier) {
  let buf = removeSignature(input);
  const m = parse(buf);
  const text = m.segments.find((s) => s.name === '__TEXT');
  const linkedit = m.segments.find((s) => s.name === '__LINKEDIT');
  if (!text || !linkedit) throw new Error('Mach-O: no __TEXT or __LINKEDIT segment');
  if (linkedit.fileoff + linkedit.filesize !== buf.length) {
    throw new Error('Mach-O: __LINKEDIT does not end the file; cannot append a signature');
  }
  // The new load command goes right after the others, in the padding before the first section.
  const lcEnd = HEADER + m.sizeofcmds;
  if (lcEnd + 16 > m.firstSectionOffset || buf.subarray(lcEnd, lcEnd + 16).some((b) => b !== 0)) {
    throw new Error('Mach-O: no room for LC_CODE_SIGNATURE after the load commands');
  }

  const sigOff = align(buf.length, 16);
  const id = Buffer.from(`${identifier}\0`, 'utf8');
  const nSlots = Math.ceil(sigOff / PAGE);
  const hashOff = CODEDIRECTORY + id.length;
  const size = SUPERBLOB + hashOff + nSlots * 32;

  const out = Buffer.alloc(sigOff + size);
  buf.copy(out);
  out.writeUInt32LE(m.ncmds + 1, 16);
  out.writeUInt32LE(m.sizeofcmds + 16, 20);
  out.writeUInt32LE(LC_CODE_SIGNATURE, lcEnd);
  out.writeUInt32LE(16, lcEnd + 4);
  out.writeUInt32LE(sigOff, lcEnd + 8);
  out.writeUInt32LE(size, lcEnd + 12);
  // __LINKEDIT grows over the signature; vmsize = filesize as Go's linker sets it (machoCodeSign).
  const filesize = BigInt(sigOff + size - linkedit.fileoff);
  out.writeBigUInt64LE(filesize, linkedit.lc + 32);
  out.writeBigUInt64LE(filesize, linkedit.lc + 48);

  // Everything before the signature, load commands included, is what the page hashes cover.
  let p = sigOff;
  p = out.writeUInt32BE(CSMAGIC_EMBEDDED_SIGNATURE, p);
  p = out.writeUInt32BE(size, p);
  p = out.writeUInt32BE(1, p); // one blob: the CodeDirectory
  p = out.writeUInt32BE(0, p); // CSSLOT_CODEDIRECTORY
  p = out.writeUInt32BE(SUPERBLOB, p);
  p = out.writeUInt32BE(CSMAGIC_CODEDIRECTORY, p);
  p = out.writeUInt32BE(size - SUPERBLOB, p);
  p = out.writeUInt32BE(0x20400, p); // version: has execSeg fields
  p = out.writeUInt32BE(CS_ADHOC | CS_LINKER_SIGNED, p);
  p = out.writeUInt32BE(hashOff, p);
  p = out.writeUInt32BE(CODEDIRECTORY, p); // identOffset
  p = out.writeUInt32BE(0, p); // nSpecialSlots: no Info.plist, requirements or entitlements
  p = out.writeUInt32BE(nSlots, p);
  p = out.writeUInt32BE(sigOff, p); // codeLimit
  p = out.writeUInt8(32, p); // hashSize
  p = out.writeUInt8(CS_HASHTYPE_SHA256, p);
  p = out.writeUInt8(0, p);
  p = out.writeUInt8(PAGE_BITS, p);
  p += 16; // spare2, scatterOffset, teamOffset, spare3
  p += 8; // codeLimit64 (unused below 4 GiB)
  p = out.writeBigUInt64BE(BigInt(text.fileoff), p);
  p = out.writeBigUInt64BE(BigInt(text.filesize), p);
  p = out.writeBigUInt64BE(BigInt(m.filetype === MH_EXECUTE ? CS_EXECSEG_MAIN_BINARY : 0), p);
  p += id.copy(out, p);
  for (let page = 0; page < sigOff; page += PAGE) {
    const digest = createHash('sha256').update(out.subarray(page, Math.min(page + PAGE, sigOff))).digest();
    p += digest.copy(out, p);
  }
  if (p !== out.length) throw new Error(`internal: signature size ${p - sigOff} != ${size}`);
  return out;
}

/**
 * Returns a copy of `buf` without LC_CODE_SIGNATURE and its data (`codesign --remove-signature`),
 * or `buf` itself when it has none.
 */
export function removeSignature(buf) {
  const m = parse(buf);
  const sig = m.commands.find((c) => c.cmd === LC_CODE_SIGNATURE);
  if (!sig) return buf;
  const dataoff = buf.readUInt32LE(sig.at + 8);
  const datasize = buf.readUInt32LE(sig.at + 12);
  const linkedit = m.segments.find((s) => s.name === '__LINKEDIT');
  if (!linkedit || dataoff + datasize !== buf.length) {
    throw new Error('Mach-O: the signature is not at the end of __LINKEDIT');
  }
  const out = Buffer.from(buf.subarray(0, dataoff));
  const lcEnd = HEADER + m.sizeofcmds;
  out.copy(out, sig.at, sig.at + sig.size, lcEnd); // close the gap in the load commands
  out.fill(0, lcEnd - sig.size, lcEnd);
  out.writeUInt32LE(m.ncmds - 1, 16);
  out.writeUInt32LE(m.sizeofcmds - sig.size, 20);
  const lc = linkedit.lc > sig.at ? linkedit.lc - sig.size : linkedit.lc;
  out.writeBigUInt64LE(BigInt(dataoff - linkedit.fileoff), lc + 48);
  return out;
}

function parse(buf) {
  if (buf.readUInt32LE(0) !== MH_MAGIC_64) throw new Error('not a thin 64-bit little-endian Mach-O file');
  const ncmds = buf.readUInt32LE(16);
  const sizeofcmds = buf.readUInt32LE(20);
  const commands = [];
  const segments = [];
  let firstSectionOffset = buf.length;
  for (let i = 0, at = HEADER; i < ncmds; i++) {
    const cmd = buf.readUInt32LE(at);
    const size = buf.readUInt32LE(at + 4);
    commands.push({ cmd, at, size });
    if (cmd === LC_SEGMENT_64) {
      segments.push({
        name: buf.toString('latin1', at + 8, at + 24).replace(/\0.*$/s, ''),
        lc: at,
        fileoff: Number(buf.readBigUInt64LE(at + 40)),
        filesize: Number(buf.readBigUInt64LE(at + 48)),
      });
      for (let s = 0; s < buf.readUInt32LE(at + 64); s++) {
        const offset = buf.readUInt32LE(at + 72 + s * 80 + 48);
        if (offset > 0) firstSectionOffset = Math.min(firstSectionOffset, offset);
      }
    }
    at += size;
  }
  return { filetype: buf.readUInt32LE(12), ncmds, sizeofcmds, commands, segments, firstSectionOffset };
}

const align = (n, a) => Math.ceil(n / a) * a;

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    options: { identifier: { type: 'string' }, remove: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) {
    process.stderr.write('usage: node scripts/macho-codesign.mjs [--identifier ID | --remove] FILE\n');
    process.exit(2);
  }
  const file = positionals[0];
  const buf = await readFile(file);
  const out = values.remove ? removeSignature(buf) : adhocSign(buf, values.identifier ?? path.basename(file));
  await writeFile(file, out);
}
