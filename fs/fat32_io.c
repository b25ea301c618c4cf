/* fat32_io.c - FAT32 sector access (device, one-sector buffer), time stamps, error details. */
#include "fat32_priv.h"

int fat32_corrupt(struct fat32_vol *vol, const char *why)
{
    vol->why = why;
    return -EUCLEAN;
}

int fat32_dev_read(struct fat32_vol *vol, uint32_t sector, uint32_t count, void *buf)
{
    uint64_t per = vol->dev_per_sector;

    return blockdev_read(vol->bd, sector * per, count * (uint32_t)per, buf);
}

int fat32_dev_read_to(struct fat32_vol *vol, uint32_t sector, uint32_t count,
                      const struct io_dest *dst, uint64_t dst_off)
{
    uint64_t per = vol->dev_per_sector;

    return blockdev_read_to(vol->bd, sector * per, count * (uint32_t)per, dst, dst_off);
}

int fat32_dev_write(struct fat32_vol *vol, uint32_t sector, uint32_t count, const void *buf)
{
    uint64_t per = vol->dev_per_sector;

    if (vol->read_only)
        return -EROFS;
    /* The sector buffer mirrors the disk; a direct write over it makes it stale. */
    if (vol->sector_buf_valid && vol->sector_buf_lba >= sector &&
        vol->sector_buf_lba - sector < count)
        vol->sector_buf_valid = false;
    return blockdev_write(vol->bd, sector * per, count * (uint32_t)per, buf);
}

/** Makes sector_buf hold the given sector, reading it unless it is already there. */
int fat32_buf_load(struct fat32_vol *vol, uint32_t sector)
{
    int r;

    if (vol->sector_buf_valid && vol->sector_buf_lba == sector)
        return 0;
    vol->sector_buf_valid = false;
    r = fat32_dev_read(vol, sector, 1, vol->sector_buf);
    if (r < 0)
        return r;
    vol->sector_buf_lba = sector;
    vol->sector_buf_valid = true;
    return 0;
}

/** Points sector_buf at a sector about to be overwritten whole, without reading it. */
int fat32_buf_zero(struct fat32_vol *vol, uint32_t sector)
{
    memset(vol->sector_buf, 0, vol->bytes_per_sector);
    vol->sector_buf_lba = sector;
    vol->sector_buf_valid = true;
    return 0;
}

int fat32_buf_store(struct fat32_vol *vol)
{
    uint64_t per = vol->dev_per_sector;
    int r;

    if (vol->read_only)
        return -EROFS;
    r = blockdev_write(vol->bd, vol->sector_buf_lba * per, (uint32_t)per, vol->sector_buf);
    if (r < 0)
        vol->sector_buf_valid = false;
    return r;
}

/* FAT dates count from 1980 in 7 bits; times keep two-second units (spec, "Date and Time"). */
static void fat_encode_time(const struct fat32_time *t, uint16_t *date, uint16_t *time,
                            uint8_t *tenths)
{
    uint16_t year = t->year < 1980 ? 1980 : t->year > 2107 ? 2107 : t->year;
    uint8_t month = t->month >= 1 && t->month <= 12 ? t->month : 1;
    uint8_t day = t->day >= 1 && t->day <= 31 ? t->day : 1;
    uint8_t hour = t->hour < 24 ? t->hour : 0;
    uint8_t minute = t->minute < 60 ? t->minute : 0;
    uint8_t second = t->second < 60 ? t->second : 0;

    *date = (uint16_t)((year - 1980) << 9 | month << 5 | day);
    *time = (uint16_t)(hour << 11 | minute << 5 | second / 2);
    *tenths = (uint8_t)(second % 2 * 100);
}

static void fat_decode_time(uint16_t date, uint16_t time, uint8_t tenths, struct fat32_time *t)
{
    t->year = (uint16_t)(1980 + (date >> 9));
    t->month = (uint8_t)(date >> 5 & 0xF);
    t->day = (uint8_t)(date & 0x1F);
    t->hour = (uint8_t)(time >> 11);
    t->minute = (uint8_t)(time >> 5 & 0x3F);
    t->second = (uint8_t)((time & 0x1F) * 2 + (tenths >= 100 && tenths < 200));
}

void fat32_stamp_mtime(uint8_t *ent, const struct fat32_time *t)
{
    uint16_t date, time;
    uint8_t tenths;

    fat_encode_time(t, &date, &time, &tenths);
    store_le16(ent + DE_MTIME, time);
    store_le16(ent + DE_MDATE, date);
    store_le16(ent + DE_ADATE, date);
}

/** Sets the modification stamp (and the creation one when created) from the clock. */
void fat32_stamp_now(struct fat32_vol *vol, uint8_t *ent, bool created)
{
    struct fat32_time t = {1980, 1, 1, 0, 0, 0};
    uint16_t date, time;
    uint8_t tenths;

    if (vol->now)
        vol->now(vol->now_ctx, &t);
    fat_encode_time(&t, &date, &time, &tenths);
    store_le16(ent + DE_MTIME, time);
    store_le16(ent + DE_MDATE, date);
    store_le16(ent + DE_ADATE, date);
    if (created) {
        ent[DE_CTIME_MS] = tenths;
        store_le16(ent + DE_CTIME, time);
        store_le16(ent + DE_CDATE, date);
    }
}

void fat32_entry_stat(const uint8_t *ent, struct fat32_stat *out)
{
    out->attr = ent[DE_ATTR];
    out->is_dir = fat_entry_is_dir(ent);
    out->size = out->is_dir ? 0 : load_le32(ent + DE_SIZE);
    out->first_cluster = fat_entry_cluster(ent);
    fat_decode_time(load_le16(ent + DE_CDATE), load_le16(ent + DE_CTIME), ent[DE_CTIME_MS],
                    &out->ctime);
    fat_decode_time(load_le16(ent + DE_MDATE), load_le16(ent + DE_MTIME), 0, &out->mtime);
    fat_decode_time(load_le16(ent + DE_ADATE), 0, 0, &out->atime);
}
