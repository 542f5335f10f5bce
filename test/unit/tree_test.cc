// Tree blobs: byte-exact against restic 0.14.0. The fixtures are tree blobs
// printed by `restic cat blob` for backups of a directory of awkward names
// and file types, taken with TZ=America/St_Johns (-03:30), Asia/Kolkata
// (+05:30) and UTC.
#include <catch2/catch.hpp>

#include <functional>

#include <sys/stat.h>

#include <random>
#include <string>
#include <vector>

#include "crypto/id.h"
#include "storage/tree.h"

namespace stash {
namespace {

// The directory itself (sockets are skipped by restic 0.14's archiver).
// Id eedaaaf62fa32edf0b6c46b822a48d5ab7ea8dab958d64036f76a41ef3db54d6.
const std::string kFixtureTree =
    R"j({"nodes":[{"name":"\u003c\u003e\u0026","type":"file","mode":420,"mtime":"2)j"
    R"j(026-11-25T09:41:47.48772815-03:30","atime":"2026-11-25T09:41:47.48772815-0)j"
    R"j(3:30","ctime":"2026-11-25T09:41:47.48772815-03:30","uid":0,"gid":0,"user":)j"
    R"j("root","group":"root","inode":9994580,"device_id":65024,"size":1,"links":1)j"
    R"j(,"content":["2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4)j"
    R"j(881"]},{"name":"back\\\\slash","type":"file","mode":420,"mtime":"2026-11-2)j"
    R"j(5T09:41:47.487619807-03:30","atime":"2026-11-25T09:41:47.487619807-03:30",)j"
    R"j("ctime":"2026-11-25T09:41:47.487619807-03:30","uid":0,"gid":0,"user":"root)j"
    R"j(","group":"root","inode":9994579,"device_id":65024,"size":1,"links":1,"con)j"
    R"j(tent":["2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"])j"
    R"j(},{"name":"bad\\xff\\xfeutf8","type":"file","mode":420,"mtime":"2026-11-25)j"
    R"j(T09:41:47.487831685-03:30","atime":"2026-11-25T09:41:47.487831685-03:30",")j"
    R"j(ctime":"2026-11-25T09:41:47.487831685-03:30","uid":0,"gid":0,"user":"root")j"
    R"j(,"group":"root","inode":9994584,"device_id":65024,"size":1,"links":1,"cont)j"
    R"j(ent":["2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"]})j"
    R"j(,{"name":"bell\\abs\\bff\\fvt\\vcr\\r","type":"file","mode":420,"mtime":"2)j"
    R"j(026-11-25T09:41:47.48804141-03:30","atime":"2026-11-25T09:41:47.48804141-0)j"
    R"j(3:30","ctime":"2026-11-25T09:41:47.48804141-03:30","uid":0,"gid":0,"user":)j"
    R"j("root","group":"root","inode":9994592,"device_id":65024,"size":1,"links":1)j"
    R"j(,"content":["2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4)j"
    R"j(881"]},{"name":"big","type":"file","mode":420,"mtime":"2026-11-25T09:41:47)j"
    R"j(.495196552-03:30","atime":"2026-11-25T09:41:47.495196552-03:30","ctime":"2)j"
    R"j(026-11-25T09:41:47.495196552-03:30","uid":0,"gid":0,"user":"root","group":)j"
    R"j("root","inode":9994611,"device_id":65024,"size":3145745,"links":1,"content)j"
    R"j(":["8330472a80bdf222705c229c076a02e932648f2d9b4865ad5cef0bf9186103f6","7a3)j"
    R"j(14e413bab3f48ff48d2ff6c22e3e527a1a488d3289df06e37bbed5b701d7c","a52b678969)j"
    R"j(ee6c3d4a20243d910dc2a342bc7a02b34d332d7c12f5277f16ec39"]},{"name":"blockde)j"
    R"j(v","type":"dev","mode":67109280,"mtime":"2026-11-25T09:41:47.488187188-03:)j"
    R"j(30","atime":"2026-11-25T09:41:47.488187188-03:30","ctime":"2026-11-25T09:4)j"
    R"j(1:47.488187188-03:30","uid":0,"gid":0,"user":"root","group":"root","inode")j"
    R"j(:9994601,"device_id":65024,"links":1,"device":1992,"content":null},{"name")j"
    R"j(:"c1\\u0085","type":"file","mode":420,"mtime":"2026-11-25T09:41:47.4880178)j"
    R"j(74-03:30","atime":"2026-11-25T09:41:47.488017874-03:30","ctime":"2026-11-2)j"
    R"j(5T09:41:47.488017874-03:30","uid":0,"gid":0,"user":"root","group":"root",")j"
    R"j(inode":9994591,"device_id":65024,"size":1,"links":1,"content":["2d711642b7)j"
    R"j(26b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"]},{"name":"chardev)j"
    R"j(","type":"chardev","mode":69206400,"mtime":"2026-11-25T09:41:47.488187188-)j"
    R"j(03:30","atime":"2026-11-25T09:41:47.488187188-03:30","ctime":"2026-11-25T0)j"
    R"j(9:41:47.488187188-03:30","uid":0,"gid":0,"user":"root","group":"root","ino)j"
    R"j(de":9994600,"device_id":65024,"links":1,"device":259,"content":null},{"nam)j"
    R"j(e":"del\\x7fesc\\x1b","type":"file","mode":420,"mtime":"2026-11-25T09:41:4)j"
    R"j(7.487993959-03:30","atime":"2026-11-25T09:41:47.487993959-03:30","ctime":")j"
    R"j(2026-11-25T09:41:47.487993959-03:30","uid":0,"gid":0,"user":"root","group")j"
    R"j(:"root","inode":9994590,"device_id":65024,"size":1,"links":1,"content":["2)j"
    R"j(d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"]},{"name")j"
    R"j(:"empty","type":"file","mode":420,"mtime":"2026-11-25T09:41:47.488187188-0)j"
    R"j(3:30","atime":"2026-11-25T09:41:47.488187188-03:30","ctime":"2026-11-25T09)j"
    R"j(:41:47.488187188-03:30","uid":0,"gid":0,"user":"root","group":"root","inod)j"
    R"j(e":9994596,"device_id":65024,"links":1,"content":[]},{"name":"emptydir","t)j"
    R"j(ype":"dir","mode":2147484141,"mtime":"2026-11-25T09:41:47.488488861-03:30")j"
    R"j(,"atime":"2026-11-25T09:41:47.488488861-03:30","ctime":"2026-11-25T09:41:4)j"
    R"j(7.488488861-03:30","uid":0,"gid":0,"user":"root","group":"root","inode":99)j"
    R"j(94607,"device_id":65024,"content":null,"subtree":"ac08ce34ba4f8123618661be)j"
    R"j(f2425f7028ffb9ac740578a3ee88684d2523fee8"},{"name":"fifo","type":"fifo","m)j"
    R"j(ode":33554852,"mtime":"2026-11-25T09:41:47.488187188-03:30","atime":"2026-)j"
    R"j(11-25T09:41:47.488187188-03:30","ctime":"2026-11-25T09:41:47.488187188-03:)j"
    R"j(30","uid":0,"gid":0,"user":"root","group":"root","inode":9994599,"device_i)j"
    R"j(d":65024,"content":null},{"name":"hardlink1","type":"file","mode":420,"mti)j"
    R"j(me":"2026-11-25T09:41:47.488676002-03:30","atime":"2026-11-25T09:41:47.488)j"
    R"j(676002-03:30","ctime":"2026-11-25T09:41:47.488676002-03:30","uid":0,"gid":)j"
    R"j(0,"user":"root","group":"root","inode":9994610,"device_id":65024,"size":2,)j"
    R"j("links":2,"content":["0369a36fe856043f6475e9da1a38e9b406df859bf6f23ca56b9e)j"
    R"j(14722d7e4c1e"]},{"name":"hardlink2","type":"file","mode":420,"mtime":"2026)j"
    R"j(-11-25T09:41:47.488676002-03:30","atime":"2026-11-25T09:41:47.488676002-03)j"
    R"j(:30","ctime":"2026-11-25T09:41:47.488676002-03:30","uid":0,"gid":0,"user":)j"
    R"j("root","group":"root","inode":9994610,"device_id":65024,"size":2,"links":2)j"
    R"j(,"content":["0369a36fe856043f6475e9da1a38e9b406df859bf6f23ca56b9e14722d7e4)j"
    R"j(c1e"]},{"name":"link","type":"symlink","mode":134218239,"mtime":"2026-11-2)j"
    R"j(5T09:42:31.684400465-03:30","atime":"2026-11-25T09:42:31.684400465-03:30",)j"
    R"j("ctime":"2026-11-25T09:42:31.684400465-03:30","uid":0,"gid":0,"user":"root)j"
    R"j(","group":"root","inode":9994557,"device_id":65024,"links":1,"linktarget":)j"
    R"j("tgt \u003c\u0026\u003e \"q\" \\ \t\n\u0001 é \u2028 � 😀","content":null},)j"
    R"j({"name":"link2","type":"symlink","mode":134218239,"mtime":"2026-11-25T09:4)j"
    R"j(1:47.488187188-03:30","atime":"2026-11-25T09:41:47.488187188-03:30","ctime)j"
    R"j(":"2026-11-25T09:41:47.488187188-03:30","uid":0,"gid":0,"user":"root","gro)j"
    R"j(up":"root","inode":9994598,"device_id":65024,"links":1,"linktarget":"plain)j"
    R"j(.txt","content":null},{"name":"melt\\U0001fae0","type":"file","mode":420,")j"
    R"j(mtime":"2026-11-25T09:41:47.48792169-03:30","atime":"2026-11-25T09:41:47.4)j"
    R"j(8792169-03:30","ctime":"2026-11-25T09:41:47.48792169-03:30","uid":0,"gid":)j"
    R"j(0,"user":"root","group":"root","inode":9994587,"device_id":65024,"size":1,)j"
    R"j("links":1,"content":["2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db0225)j"
    R"j(8717921a4881"]},{"name":"nb\\u00a0sp\\u00ad","type":"file","mode":420,"mti)j"
    R"j(me":"2026-11-25T09:41:47.487970223-03:30","atime":"2026-11-25T09:41:47.487)j"
    R"j(970223-03:30","ctime":"2026-11-25T09:41:47.487970223-03:30","uid":0,"gid":)j"
    R"j(0,"user":"root","group":"root","inode":9994589,"device_id":65024,"size":1,)j"
    R"j("links":1,"content":["2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db0225)j"
    R"j(8717921a4881"]},{"name":"new\\nline","type":"file","mode":420,"mtime":"202)j"
    R"j(6-11-25T09:41:47.487754039-03:30","atime":"2026-11-25T09:41:47.487754039-0)j"
    R"j(3:30","ctime":"2026-11-25T09:41:47.487754039-03:30","uid":0,"gid":0,"user")j"
    R"j(:"root","group":"root","inode":9994581,"device_id":65024,"size":1,"links":)j"
    R"j(1,"content":["2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a)j"
    R"j(4881"]},{"name":"owned","type":"file","mode":420,"mtime":"2026-11-25T09:41)j"
    R"j(:47.488643122-03:30","atime":"2026-11-25T09:41:47.488643122-03:30","ctime")j"
    R"j(:"2026-11-25T09:41:47.488643122-03:30","uid":1234,"gid":5678,"inode":99946)j"
    R"j(09,"device_id":65024,"size":1,"links":1,"content":["2d711642b726b04401627c)j"
    R"j(a9fbac32f5c8530fb1903cc4db02258717921a4881"]},{"name":"plain.txt","type":")j"
    R"j(file","mode":420,"mtime":"2026-11-25T09:41:47.488187188-03:30","atime":"20)j"
    R"j(26-11-25T09:41:47.488187188-03:30","ctime":"2026-11-25T09:41:47.488187188-)j"
    R"j(03:30","uid":0,"gid":0,"user":"root","group":"root","inode":9994595,"devic)j"
    R"j(e_id":65024,"size":6,"links":1,"content":["5891b5b522d5df086d0ff0b110fbd9d)j"
    R"j(21bb4fc7163af34d08286a2e846f6be03"]},{"name":"quote\\\"s","type":"file","m)j"
    R"j(ode":420,"mtime":"2026-11-25T09:41:47.487594549-03:30","atime":"2026-11-25)j"
    R"j(T09:41:47.487594549-03:30","ctime":"2026-11-25T09:41:47.487594549-03:30",")j"
    R"j(uid":0,"gid":0,"user":"root","group":"root","inode":9994578,"device_id":65)j"
    R"j(024,"size":1,"links":1,"content":["2d711642b726b04401627ca9fbac32f5c8530fb)j"
    R"j(1903cc4db02258717921a4881"]},{"name":"repl�","type":"file","mode":420,"mti)j"
    R"j(me":"2026-11-25T09:41:47.488069632-03:30","atime":"2026-11-25T09:41:47.488)j"
    R"j(069632-03:30","ctime":"2026-11-25T09:41:47.488069632-03:30","uid":0,"gid":)j"
    R"j(0,"user":"root","group":"root","inode":9994593,"device_id":65024,"size":1,)j"
    R"j("links":1,"content":["2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db0225)j"
    R"j(8717921a4881"]},{"name":"sgid","type":"file","mode":4194761,"mtime":"2026-)j"
    R"j(11-25T09:41:47.488403252-03:30","atime":"2026-11-25T09:41:47.488403252-03:)j"
    R"j(30","ctime":"2026-11-25T09:41:47.488437634-03:30","uid":0,"gid":0,"user":")j"
    R"j(root","group":"root","inode":9994604,"device_id":65024,"links":1,"content")j"
    R"j(:[]},{"name":"stickydir","type":"dir","mode":2148532735,"mtime":"2026-11-2)j"
    R"j(5T09:41:47.488437634-03:30","atime":"2026-11-25T09:41:47.488437634-03:30",)j"
    R"j("ctime":"2026-11-25T09:41:47.488437634-03:30","uid":0,"gid":0,"user":"root)j"
    R"j(","group":"root","inode":9994605,"device_id":65024,"content":null,"subtree)j"
    R"j(":"18585dea194908312c0031be58badca54fdfef6707974b316c570ff7aa90122c"},{"na)j"
    R"j(me":"suid","type":"file","mode":13631981,"mtime":"2026-11-25T09:41:47.4884)j"
    R"j(03252-03:30","atime":"2026-11-25T09:41:47.488403252-03:30","ctime":"2026-1)j"
    R"j(1-25T09:41:47.488403252-03:30","uid":0,"gid":0,"user":"root","group":"root)j"
    R"j(","inode":9994603,"device_id":65024,"size":10,"links":1,"content":["a8076d)j"
    R"j(3d28d21e02012b20eaf7dbf75409a6277134439025f282e368e3305abf"]},{"name":"t_1)j"
    R"j(20ms","type":"file","mode":420,"mtime":"2001-02-03T00:35:06.12-03:30","ati)j"
    R"j(me":"2001-02-03T00:35:06.12-03:30","ctime":"2026-11-25T09:41:47.500692927-)j"
    R"j(03:30","uid":0,"gid":0,"user":"root","group":"root","inode":9994614,"devic)j"
    R"j(e_id":65024,"size":1,"links":1,"content":["e3b98a4da31a127d4bde6e43033f66b)j"
    R"j(a274cab0eb7eb1c70ec41402bf6273dd8"]},{"name":"t_1960","type":"file","mode")j"
    R"j(:420,"mtime":"1959-12-31T20:30:00.0000005-03:30","atime":"1959-12-31T20:30)j"
    R"j(:00.0000005-03:30","ctime":"2026-11-25T09:41:47.500720248-03:30","uid":0,")j"
    R"j(gid":0,"user":"root","group":"root","inode":9994615,"device_id":65024,"siz)j"
    R"j(e":1,"links":1,"content":["e3b98a4da31a127d4bde6e43033f66ba274cab0eb7eb1c7)j"
    R"j(0ec41402bf6273dd8"]},{"name":"t_1ns","type":"file","mode":420,"mtime":"200)j"
    R"j(1-02-03T00:35:06.000000001-03:30","atime":"2001-02-03T00:35:06.000000001-0)j"
    R"j(3:30","ctime":"2026-11-25T09:41:47.500664714-03:30","uid":0,"gid":0,"user")j"
    R"j(:"root","group":"root","inode":9994613,"device_id":65024,"size":1,"links":)j"
    R"j(1,"content":["e3b98a4da31a127d4bde6e43033f66ba274cab0eb7eb1c70ec41402bf627)j"
    R"j(3dd8"]},{"name":"t_y10000","type":"file","mode":420,"mtime":"2446-05-10T20)j"
    R"j(:08:55-02:30","atime":"2446-05-10T20:08:55-02:30","ctime":"2026-11-25T09:4)j"
    R"j(1:47.50074837-03:30","uid":0,"gid":0,"user":"root","group":"root","inode":)j"
    R"j(9994616,"device_id":65024,"size":1,"links":1,"content":["e3b98a4da31a127d4)j"
    R"j(bde6e43033f66ba274cab0eb7eb1c70ec41402bf6273dd8"]},{"name":"t_zero_frac",")j"
    R"j(type":"file","mode":420,"mtime":"2001-02-03T00:35:06-03:30","atime":"2001-)j"
    R"j(02-03T00:35:06-03:30","ctime":"2026-11-25T09:41:47.500622621-03:30","uid":)j"
    R"j(0,"gid":0,"user":"root","group":"root","inode":9994612,"device_id":65024,")j"
    R"j(size":1,"links":1,"content":["e3b98a4da31a127d4bde6e43033f66ba274cab0eb7eb)j"
    R"j(1c70ec41402bf6273dd8"]},{"name":"tab\\there","type":"file","mode":420,"mti)j"
    R"j(me":"2026-11-25T09:41:47.487779126-03:30","atime":"2026-11-25T09:41:47.487)j"
    R"j(779126-03:30","ctime":"2026-11-25T09:41:47.487779126-03:30","uid":0,"gid":)j"
    R"j(0,"user":"root","group":"root","inode":9994582,"device_id":65024,"size":1,)j"
    R"j("links":1,"content":["2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db0225)j"
    R"j(8717921a4881"]},{"name":"trunc\\xe6\\x97","type":"file","mode":420,"mtime")j"
    R"j(:"2026-11-25T09:41:47.48816135-03:30","atime":"2026-11-25T09:41:47.4881613)j"
    R"j(5-03:30","ctime":"2026-11-25T09:41:47.48816135-03:30","uid":0,"gid":0,"use)j"
    R"j(r":"root","group":"root","inode":9994594,"device_id":65024,"size":1,"links)j"
    R"j(":1,"content":["2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db0225871792)j"
    R"j(1a4881"]},{"name":"with space","type":"file","mode":420,"mtime":"2026-11-2)j"
    R"j(5T09:41:47.487562161-03:30","atime":"2026-11-25T09:41:47.487562161-03:30",)j"
    R"j("ctime":"2026-11-25T09:41:47.487562161-03:30","uid":0,"gid":0,"user":"root)j"
    R"j(","group":"root","inode":9994577,"device_id":65024,"size":1,"links":1,"con)j"
    R"j(tent":["2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"])j"
    R"j(},{"name":"xattr","type":"file","mode":420,"mtime":"2026-11-25T09:41:47.48)j"
    R"j(8579337-03:30","atime":"2026-11-25T09:41:47.488579337-03:30","ctime":"2026)j"
    R"j(-11-25T09:41:47.488579337-03:30","uid":0,"gid":0,"user":"root","group":"ro)j"
    R"j(ot","inode":9994608,"device_id":65024,"size":1,"links":1,"extended_attribu)j"
    R"j(tes":[{"name":"user.test","value":"dmFsAP91ZQ=="},{"name":"user.empty","va)j"
    R"j(lue":""}],"content":["2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db0225)j"
    R"j(8717921a4881"]},{"name":"zw\\u200bsp","type":"file","mode":420,"mtime":"20)j"
    R"j(26-11-25T09:41:47.487946277-03:30","atime":"2026-11-25T09:41:47.487946277-)j"
    R"j(03:30","ctime":"2026-11-25T09:41:47.487946277-03:30","uid":0,"gid":0,"user)j"
    R"j(":"root","group":"root","inode":9994588,"device_id":65024,"size":1,"links")j"
    R"j(:1,"content":["2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921)j"
    R"j(a4881"]},{"name":"é日本","type":"file","mode":420,"mtime":"2026-11-25T09:41:)j"
    R"j(47.487803222-03:30","atime":"2026-11-25T09:41:47.487803222-03:30","ctime":)j"
    R"j("2026-11-25T09:41:47.487803222-03:30","uid":0,"gid":0,"user":"root","group)j"
    R"j(":"root","inode":9994583,"device_id":65024,"size":1,"links":1,"content":[")j"
    R"j(2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"]},{"name)j"
    R"j(":"\\u2028sep\\u2029","type":"file","mode":420,"mtime":"2026-11-25T09:41:4)j"
    R"j(7.487873979-03:30","atime":"2026-11-25T09:41:47.487873979-03:30","ctime":")j"
    R"j(2026-11-25T09:41:47.487873979-03:30","uid":0,"gid":0,"user":"root","group")j"
    R"j(:"root","inode":9994585,"device_id":65024,"size":1,"links":1,"content":["2)j"
    R"j(d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"]},{"name")j"
    R"j(:"😀","type":"file","mode":420,"mtime":"2026-11-25T09:41:47.487898155-03:30)j"
    R"j(","atime":"2026-11-25T09:41:47.487898155-03:30","ctime":"2026-11-25T09:41:)j"
    R"j(47.487898155-03:30","uid":0,"gid":0,"user":"root","group":"root","inode":9)j"
    R"j(994586,"device_id":65024,"size":1,"links":1,"content":["2d711642b726b04401)j"
    R"j(627ca9fbac32f5c8530fb1903cc4db02258717921a4881"]}]})j" "\n";

// Its raw file names, in restic's (bytewise) order.
const std::vector<std::string> kFixtureNames = {
    "<>&",
    "back\\slash",
    "bad\xff\xfeutf8",
    "bell\abs\bff\fvt\vcr\r",
    "big",
    "blockdev",
    "c1\xc2\x85",
    "chardev",
    "del\x7f" "esc\x1b",
    "empty",
    "emptydir",
    "fifo",
    "hardlink1",
    "hardlink2",
    "link",
    "link2",
    "melt\xf0\x9f\xab\xa0",
    "nb\xc2\xa0sp\xc2\xad",
    "new\nline",
    "owned",
    "plain.txt",
    "quote\"s",
    "repl\xef\xbf\xbd",
    "sgid",
    "stickydir",
    "suid",
    "t_120ms",
    "t_1960",
    "t_1ns",
    "t_y10000",
    "t_zero_frac",
    "tab\there",
    "trunc\xe6\x97",
    "with space",
    "xattr",
    "zw\xe2\x80\x8bsp",
    "\xc3\xa9\xe6\x97\xa5\xe6\x9c\xac",
    "\xe2\x80\xa8sep\xe2\x80\xa9",
    "\xf0\x9f\x98\x80",
};

// The snapshot root above it: one dir node `fx`.
const std::string kRootTree =
    R"j({"nodes":[{"name":"fx","type":"dir","mode":2147484141,"mtime":"2026-11-25T)j"
    R"j(09:42:31.684400465-03:30","atime":"2026-11-25T09:42:31.684400465-03:30","c)j"
    R"j(time":"2026-11-25T09:42:31.684400465-03:30","uid":0,"gid":0,"user":"root",)j"
    R"j("group":"root","inode":9994576,"device_id":65024,"content":null,"subtree":)j"
    R"j("eedaaaf62fa32edf0b6c46b822a48d5ab7ea8dab958d64036f76a41ef3db54d6"}]})j" "\n";

// A tree written with +05:30 and a sticky dir inside it.
const std::string kKolkataTree =
    R"j({"nodes":[{"name":"stickydir","type":"dir","mode":2148532735,"mtime":"2026)j"
    R"j(-11-25T18:41:47.488437634+05:30","atime":"2026-11-25T18:41:47.488437634+05)j"
    R"j(:30","ctime":"2026-11-25T18:41:47.488437634+05:30","uid":0,"gid":0,"user":)j"
    R"j("root","group":"root","inode":9994605,"device_id":65024,"content":null,"su)j"
    R"j(btree":"2de927404a3d6fc25e7a024f14ab67591f57488b773e7be0afe788599e931e0b"})j"
    R"j(]})j" "\n";
const std::string kKolkataInnerTree =
    R"j({"nodes":[{"name":"inner","type":"file","mode":420,"mtime":"2026-11-25T18:)j"
    R"j(41:47.488488861+05:30","atime":"2026-11-25T18:41:47.488488861+05:30","ctim)j"
    R"j(e":"2026-11-25T18:41:47.488488861+05:30","uid":0,"gid":0,"user":"root","gr)j"
    R"j(oup":"root","inode":9994606,"device_id":65024,"size":5,"links":1,"content")j"
    R"j(:["33bf6fbd7cd8379785a21e233d8e09f824e7bab459168a96312c1c882c1d7e1f"]}]})j" "\n";

// A symlink whose target has the byte 0xff: restic 0.14 stores U+FFFD.
const std::string kBadLinkTree =
    R"j({"nodes":[{"name":"l","type":"symlink","mode":134218239,"mtime":"2001-09-0)j"
    R"j(9T01:46:40Z","atime":"2001-09-09T01:46:40Z","ctime":"2026-11-25T13:12:31.6)j"
    R"j(84400465Z","uid":0,"gid":0,"user":"root","group":"root","inode":10166290,")j"
    R"j(device_id":65024,"links":1,"linktarget":"bad\ufffdtarget","content":null}])j"
    R"j(})j" "\n";

const std::string kEmptyTree = "{\"nodes\":[]}\n";

Id IdFromHex(std::string_view hex) {
  auto id = Id::FromHex(hex);
  REQUIRE(id);
  return *id;
}

Tree MustDecode(std::string_view json) {
  auto tree = DecodeTree(AsBytes(json));
  if (!tree.ok()) FAIL(tree.error().message());
  return std::move(tree).value();
}

std::string Encode(const Tree& tree) {
  Bytes bytes = EncodeTree(tree);
  return std::string(AsString(bytes));
}

const Node& Find(const Tree& tree, std::string_view name) {
  for (const Node& node : tree.nodes) {
    if (node.name == name) return node;
  }
  FAIL("no node " << name);
  throw;  // unreachable
}

TEST_CASE("restic trees re-encode byte for byte", "[tree]") {
  const std::pair<const std::string*, const char*> fixtures[] = {
      {&kFixtureTree,
       "eedaaaf62fa32edf0b6c46b822a48d5ab7ea8dab958d64036f76a41ef3db54d6"},
      {&kRootTree,
       "20b43a843c15105767123f0df6cde68446625a6b24e1481bd7c09fb6b814b07f"},
      {&kKolkataTree,
       "6b2df6f4a4923c782ebae520ae6803690f33a988e20bcf49c79e7884d5902fa8"},
      {&kKolkataInnerTree,
       "2de927404a3d6fc25e7a024f14ab67591f57488b773e7be0afe788599e931e0b"},
      {&kEmptyTree,
       "ac08ce34ba4f8123618661bef2425f7028ffb9ac740578a3ee88684d2523fee8"},
  };
  for (const auto& [json, id] : fixtures) {
    INFO(id);
    const Tree tree = MustDecode(*json);
    const Bytes encoded = EncodeTree(tree);
    CHECK(AsString(encoded) == *json);
    CHECK(Sha256(encoded).Hex() == id);
  }
}

// SameEncoding lets the archiver reuse a parent tree's id instead of
// encoding again, so it must answer exactly what comparing bytes would.
TEST_CASE("SameEncoding agrees with comparing the encoded bytes", "[tree]") {
  const Tree base = MustDecode(kFixtureTree);
  REQUIRE(!base.nodes.empty());
  CHECK(SameEncoding(base, base));
  const std::vector<std::function<void(Node&)>> changes = {
      [](Node& n) { n.mtime.nanos += 1; },
      [](Node& n) { n.ctime.utc_offset += 3600; },
      [](Node& n) { n.inode += 1; },
      [](Node& n) { n.user += "x"; },
      [](Node& n) { n.extended_attributes.push_back({"user.k", ToBytes("v")}); },
      [](Node& n) { n.content = std::vector<Id>{Id()}; },
      [](Node& n) { n.subtree = Id(); },
      [](Node& n) { n.linktarget = "elsewhere"; },
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    INFO("change " << i);
    Tree changed = base;
    changes[i](changed.nodes.back());
    CHECK(EncodeTree(changed) != EncodeTree(base));
    CHECK(!SameEncoding(base, changed));
  }
  Tree shorter = base;
  shorter.nodes.pop_back();
  CHECK(!SameEncoding(base, shorter));
}

TEST_CASE("decoded names are the raw file names", "[tree]") {
  const Tree tree = MustDecode(kFixtureTree);
  std::vector<std::string> names;
  for (const Node& node : tree.nodes) names.push_back(node.name);
  CHECK(names == kFixtureNames);
  Tree sorted = tree;
  SortTree(sorted);
  CHECK(Encode(sorted) == kFixtureTree);  // restic's order is ours
}

TEST_CASE("decoded nodes carry restic's metadata", "[tree]") {
  const Tree tree = MustDecode(kFixtureTree);

  const Node& big = Find(tree, "big");
  CHECK(big.type == NodeType::kFile);
  CHECK(big.mode == 0644);
  CHECK(big.size == 3145745);
  CHECK(big.links == 1);
  CHECK(big.inode == 9994611);
  CHECK(big.device_id == 65024);
  CHECK(big.user == "root");
  REQUIRE(big.content);
  REQUIRE(big.content->size() == 3);
  CHECK(big.content->at(2).Hex() ==
        "a52b678969ee6c3d4a20243d910dc2a342bc7a02b34d332d7c12f5277f16ec39");
  CHECK(FormatRfc3339Nano(big.mtime) == "2026-11-25T09:41:47.495196552-03:30");
  CHECK(big.mtime.utc_offset == -12600);

  const Node& empty = Find(tree, "empty");
  REQUIRE(empty.content);  // [] for an empty file ...
  CHECK(empty.content->empty());
  CHECK(empty.size == 0);
  CHECK_FALSE(Find(tree, "emptydir").content);  // ... null for a dir
  CHECK(Find(tree, "emptydir").subtree ==
        IdFromHex("ac08ce34ba4f8123618661bef2425f70"
                  "28ffb9ac740578a3ee88684d2523fee8"));

  const Node& link = Find(tree, "link");
  CHECK(link.type == NodeType::kSymlink);
  CHECK(link.linktarget ==
        "tgt <&> \"q\" \\ \t\n\x01 \xc3\xa9 \xe2\x80\xa8 \xef\xbf\xbd "
        "\xf0\x9f\x98\x80");
  CHECK_FALSE(link.content);

  const Node& blockdev = Find(tree, "blockdev");
  CHECK(blockdev.type == NodeType::kDev);
  CHECK(blockdev.device == 1992);
  CHECK(Find(tree, "chardev").type == NodeType::kCharDev);
  CHECK(Find(tree, "chardev").device == 259);
  CHECK(Find(tree, "fifo").type == NodeType::kFifo);

  const Node& owned = Find(tree, "owned");
  CHECK(owned.uid == 1234);
  CHECK(owned.gid == 5678);
  CHECK(owned.user.empty());

  const Node& xattr = Find(tree, "xattr");
  REQUIRE(xattr.extended_attributes.size() == 2);
  CHECK(xattr.extended_attributes[0].name == "user.test");
  CHECK(xattr.extended_attributes[0].value ==
        Bytes{'v', 'a', 'l', 0, 0xff, 'u', 'e'});
  CHECK(xattr.extended_attributes[1].value.empty());

  CHECK(Find(tree, "t_1ns").mtime.nanos == 1);
  CHECK(Find(tree, "t_1960").mtime.seconds == -315619200);
  CHECK(Find(tree, "hardlink2").links == 2);
}

TEST_CASE("Go file modes", "[tree]") {
  // Values restic 0.14 stored for the fixture files.
  CHECK(GoModeFromUnix(S_IFREG | 0644) == 420);
  CHECK(GoModeFromUnix(S_IFDIR | 0755) == 2147484141u);
  CHECK(GoModeFromUnix(S_IFLNK | 0777) == 134218239);
  CHECK(GoModeFromUnix(S_IFDIR | 01777) == 2148532735u);
  CHECK(GoModeFromUnix(S_IFCHR | 0600) == 69206400);
  CHECK(GoModeFromUnix(S_IFBLK | 0640) == 67109280);
  CHECK(GoModeFromUnix(S_IFIFO | 0644) == 33554852);
  CHECK(GoModeFromUnix(S_IFREG | 07755) == 13631981);
  CHECK(GoModeFromUnix(S_IFREG | 02711) == 4194761);
  CHECK(GoModeFromUnix(S_IFSOCK | 0755) == (gomode::kSocket | 0755));

  CHECK(UnixPermissionsFromGoMode(13631981) == 07755);
  CHECK(UnixPermissionsFromGoMode(4194761) == 02711);
  CHECK(UnixPermissionsFromGoMode(2148532735u) == 01777);
  CHECK(UnixPermissionsFromGoMode(69206400) == 0600);
  for (uint32_t perm = 0; perm <= 07777; ++perm) {
    CHECK(UnixPermissionsFromGoMode(GoModeFromUnix(S_IFREG | perm)) == perm);
  }
}

TEST_CASE("node type names", "[tree]") {
  const NodeType types[] = {NodeType::kFile,    NodeType::kDir,
                            NodeType::kSymlink, NodeType::kDev,
                            NodeType::kCharDev, NodeType::kFifo,
                            NodeType::kSocket};
  for (NodeType type : types) {
    CHECK(NodeTypeFromName(NodeTypeName(type)) == type);
  }
  CHECK(std::string(NodeTypeName(NodeType::kDev)) == "dev");
  CHECK(std::string(NodeTypeName(NodeType::kCharDev)) == "chardev");
  CHECK_FALSE(NodeTypeFromName("blockdev"));
  CHECK_FALSE(NodeTypeFromName(""));
}

Node FullNode() {
  Node n;
  n.name = "a\"b";
  n.type = NodeType::kDir;
  n.mode = 2147484141u;
  n.mtime = {981173106, 120000000, 0};
  n.atime = {981173106, 0, 3600};
  n.ctime = {981173106, 1, -12600};
  n.uid = 1;
  n.gid = 2;
  n.user = "u<";
  n.group = "g";
  n.inode = 3;
  n.device_id = 4;
  n.size = 5;
  n.links = 6;
  n.linktarget = "t";
  n.extended_attributes = {{"user.x", {1, 2, 3}}};
  n.device = 7;
  n.content = std::vector<Id>{};
  n.subtree = Id{};
  n.error = "e";
  return n;
}

TEST_CASE("every field in restic 0.14's order", "[tree]") {
  Tree tree;
  tree.nodes.push_back(FullNode());
  const std::string expected =
      "{\"nodes\":[{\"name\":\"a\\\\\\\"b\",\"type\":\"dir\","
      "\"mode\":2147484141,\"mtime\":\"2001-02-03T04:05:06.12Z\","
      "\"atime\":\"2001-02-03T05:05:06+01:00\","
      "\"ctime\":\"2001-02-03T00:35:06.000000001-03:30\",\"uid\":1,"
      "\"gid\":2,\"user\":\"u\\u003c\",\"group\":\"g\",\"inode\":3,"
      "\"device_id\":4,\"size\":5,\"links\":6,\"linktarget\":\"t\","
      "\"extended_attributes\":[{\"name\":\"user.x\",\"value\":\"AQID\"}],"
      "\"device\":7,\"content\":[],\"subtree\":\"" +
      std::string(64, '0') + "\",\"error\":\"e\"}]}\n";
  CHECK(Encode(tree) == expected);
  const Tree back = MustDecode(expected);
  CHECK(Encode(back) == expected);
  CHECK(back.nodes[0].name == "a\"b");
  CHECK(back.nodes[0].atime.utc_offset == 3600);
}

TEST_CASE("zero fields are omitted, times and ids are not", "[tree]") {
  Tree tree;
  tree.nodes.emplace_back();
  tree.nodes[0].name = "f";
  CHECK(Encode(tree) ==
        "{\"nodes\":[{\"name\":\"f\",\"type\":\"file\","
        "\"mtime\":\"1970-01-01T00:00:00Z\",\"atime\":\"1970-01-01T00:00:00Z\","
        "\"ctime\":\"1970-01-01T00:00:00Z\",\"uid\":0,\"gid\":0,"
        "\"content\":null}]}\n");
}

TEST_CASE("a symlink target that is not UTF-8", "[tree]") {
  // restic 0.14 loses the byte: it wrote the escape \ufffd, which decodes
  // to a real U+FFFD, which Go (and we) then encode as raw UTF-8. So this
  // one fixture cannot round-trip, for restic either.
  const Tree restic = MustDecode(kBadLinkTree);
  CHECK(restic.nodes[0].linktarget == "bad\xef\xbf\xbdtarget");
  std::string reencoded = kBadLinkTree;
  reencoded.replace(reencoded.find("\\ufffd"), 6, "\xef\xbf\xbd");
  CHECK(Encode(restic) == reencoded);
  CHECK(Sha256(AsBytes(kBadLinkTree)).Hex() ==
        "4d791bb949d636c623f36518ec2e329b084831877dc16e3b124ad4ab2ea953ed");

  // We store the target as 0.14 does and add linktarget_raw like restic
  // >= 0.16, so the bytes survive; 0.14 ignores the extra key.
  Tree tree = restic;
  tree.nodes[0].linktarget = "bad\xfftarget";
  const std::string json = Encode(tree);
  CHECK(json.find("\"linktarget\":\"bad\\ufffdtarget\","
                  "\"linktarget_raw\":\"YmFk/3RhcmdldA==\",") !=
        std::string::npos);
  CHECK(MustDecode(json).nodes[0].linktarget == "bad\xfftarget");
}

TEST_CASE("decoding is as lenient as Go", "[tree]") {
  const Tree tree = MustDecode(
      "{\"nodes\":[{\"Name\":\"x\",\"TYPE\":\"symlink\",\"mode\":null,"
      "\"future\":{\"a\":[1,2,{}]},\"generic_attributes\":{\"k\":\"dg==\"},"
      "\"linktarget\":\"lossy\",\"linktarget_raw\":\"cmF3\","
      "\"user\":null,\"content\":null,\"extended_attributes\":null}],"
      "\"extra\":true}");
  REQUIRE(tree.nodes.size() == 1);
  CHECK(tree.nodes[0].name == "x");
  CHECK(tree.nodes[0].type == NodeType::kSymlink);
  CHECK(tree.nodes[0].linktarget == "raw");
  CHECK(MustDecode("{}").nodes.empty());
  CHECK(MustDecode("{\"nodes\":null}").nodes.empty());
  CHECK(MustDecode(" {\"nodes\" : [ ] } \n").nodes.empty());
  // A later duplicate key wins, as in Go.
  CHECK(MustDecode("{\"nodes\":[{\"name\":\"a\",\"type\":\"file\","
                   "\"name\":\"b\"}]}")
            .nodes[0]
            .name == "b");
  // A raw invalid byte in a name becomes U+FFFD, as in Go.
  CHECK(MustDecode("{\"nodes\":[{\"name\":\"a\xff\",\"type\":\"file\"}]}")
            .nodes[0]
            .name == "a\xef\xbf\xbd");
}

TEST_CASE("malformed trees are corrupt, not crashes", "[tree]") {
  const std::string node = "{\"name\":\"n\",\"type\":\"file\"";
  const std::string bad[] = {
      "",
      " ",
      "{",
      "[]",
      "null",
      "{\"nodes\":[]}x",
      "{\"nodes\":{}}",
      "{\"nodes\":[1]}",
      "{\"nodes\":[null]}",
      "{\"nodes\":[{\"type\":\"file\"}]}",
      "{\"nodes\":[{\"name\":\"n\"}]}",
      "{\"nodes\":[{\"name\":\"n\",\"type\":\"block\"}]}",
      "{\"nodes\":[{\"name\":\"a\\\\qb\",\"type\":\"file\"}]}",
      "{\"nodes\":[{\"name\":\"a\\\"b\",\"type\":\"file\"}]}",
      "{\"nodes\":[{\"name\":\"a\\nb\",\"type\":\"file\"}]}",
      "{\"nodes\":[{\"name\":1,\"type\":\"file\"}]}",
      "{\"nodes\":[{\"name\":\"a\tb\",\"type\":\"file\"}]}",  // raw tab
      node + ",\"mode\":\"420\"}]}",
      node + ",\"mode\":-1}]}",
      node + ",\"mode\":1.5}]}",
      node + ",\"mode\":1e3}]}",
      node + ",\"mode\":4294967296}]}",
      node + ",\"uid\":4294967296}]}",
      node + ",\"size\":18446744073709551616}]}",
      node + ",\"mtime\":\"yesterday\"}]}",
      node + ",\"mtime\":0}]}",
      node + ",\"content\":\"x\"}]}",
      node + ",\"content\":[\"zz\"]}]}",
      node + ",\"content\":[null]}]}",
      node + ",\"subtree\":\"abcd\"}]}",
      node + ",\"subtree\":[]}]}",
      node + ",\"extended_attributes\":[{\"name\":\"a\",\"value\":\"!\"}]}]}",
      node + ",\"extended_attributes\":[1]}]}",
      node + ",\"extended_attributes\":{}}]}",
      node + ",\"linktarget_raw\":\"***\"}]}",
      node + ",\"user\":[]}]}",
      "{\"nodes\":[{\"name\":\"\\ud800\",\"type\":\"file\"}]}",
      std::string(100000, '[') + std::string(100000, ']'),
      "{\"nodes\":" + std::string(100000, '['),
  };
  for (const std::string& json : bad) {
    INFO(json.substr(0, 120));
    auto tree = DecodeTree(AsBytes(json));
    REQUIRE_FALSE(tree.ok());
    CHECK(tree.error().kind() == ErrorKind::kCorrupt);
    CHECK_FALSE(tree.error().message().empty());
  }
}

TEST_CASE("the error names the node and the field", "[tree]") {
  auto tree = DecodeTree(AsBytes(
      "{\"nodes\":[{\"name\":\"a\",\"type\":\"file\"},"
      "{\"name\":\"b\",\"type\":\"file\",\"mtime\":\"x\"}]}"));
  REQUIRE_FALSE(tree.ok());
  CHECK(tree.error().message() ==
        "tree: node 1: mtime: expected an RFC 3339 time");
}

TEST_CASE("mangled fixtures never crash the decoder", "[tree]") {
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string json = kFixtureTree;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t pos = rng() % json.size();
      switch (rng() % 3) {
        case 0: json[pos] = static_cast<char>(rng()); break;
        case 1: json.erase(pos, 1 + rng() % 8); break;
        default: json.resize(pos); break;
      }
      if (json.empty()) break;
    }
    auto tree = DecodeTree(AsBytes(json));
    if (tree.ok()) {
      EncodeTree(*tree);
    } else {
      CHECK(tree.error().kind() == ErrorKind::kCorrupt);
    }
  }
}

TEST_CASE("SortTree orders names bytewise", "[tree]") {
  Tree tree;
  for (const char* name : {"\xff", "b", "\xc3\xa9", "Z", "a", "a b", ""}) {
    Node node;
    node.name = name;
    tree.nodes.push_back(node);
  }
  SortTree(tree);
  std::vector<std::string> names;
  for (const Node& node : tree.nodes) names.push_back(node.name);
  CHECK(names == std::vector<std::string>{"", "Z", "a", "a b", "b",
                                          "\xc3\xa9", "\xff"});
}

}  // namespace
}  // namespace stash
